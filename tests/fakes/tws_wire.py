"""The TWS socket wire format for the fake TWS: framing, the server's messages, and parsing client requests.

Layouts follow ib_insync 0.9.86's ``decoder.py`` (what the client parses) and ``client.py`` (what it
sends) for server version 176, and the recorded transcript in tests/fixtures/ibkr/. Every field is
text followed by NUL; every message after the ``API\\0`` prefix is a 4-byte big-endian length plus
its fields.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

SERVER_VERSION = 176
UNSET_DOUBLE = 1.7976931348623157e308


def frame(fields: Sequence[object]) -> bytes:
    payload = "".join(f"{_text(f)}\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


async def read_frame(reader: asyncio.StreamReader) -> list[str]:
    """One framed message split into its fields (the trailing empty element dropped)."""
    size = struct.unpack(">I", await reader.readexactly(4))[0]
    payload = (await reader.readexactly(size)).decode(errors="backslashreplace")
    fields = payload.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


@dataclass(frozen=True, slots=True)
class WireContract:
    """A contract as the fake knows it; ``key`` is our symbol (ticker or compact OCC)."""

    key: str
    con_id: int
    symbol: str
    sec_type: str
    expiry: str = ""
    strike: str = ""
    right: str = ""
    multiplier: str = ""
    exchange: str = "SMART"
    primary_exchange: str = "NASDAQ"
    currency: str = "USD"
    local_symbol: str = ""
    trading_class: str = ""

    def fields(self) -> list[object]:
        """conId … tradingClass as in position, openOrder and execDetails messages (11 fields)."""
        return [
            self.con_id, self.symbol, self.sec_type, self.expiry, self.strike or "0", self.right,
            self.multiplier, self.exchange, self.currency, self.local_symbol, self.trading_class,
        ]


@dataclass(frozen=True, slots=True)
class RequestedContract:
    """The 12 contract fields a client sends (``Client.send`` for a Contract)."""

    con_id: str
    symbol: str
    sec_type: str
    expiry: str
    strike: str
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str

    @classmethod
    def take(cls, fields: Sequence[str], start: int) -> RequestedContract:
        return cls(*fields[start : start + 12])


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """The parts of a placeOrder request (msg 3) the fake acts on."""

    order_id: int
    contract: RequestedContract
    action: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    account: str
    order_ref: str
    outside_rth: bool
    what_if: bool


class _Cursor:
    def __init__(self, fields: Sequence[str], position: int) -> None:
        self.fields = fields
        self.position = position

    def take(self) -> str:
        value = self.fields[self.position]
        self.position += 1
        return value

    def skip(self, count: int) -> None:
        self.position += count


def _price(text: str) -> Decimal | None:
    if not text or float(text) >= UNSET_DOUBLE:
        return None
    return Decimal(text)


def parse_place_order(fields: Sequence[str]) -> PlacedOrder:
    """Read msg 3 the way ``Client.placeOrder`` wrote it (plain orders: no combo legs, algos or conditions)."""
    cursor = _Cursor(fields, 1)
    order_id = int(cursor.take())
    contract = RequestedContract.take(fields, cursor.position)
    cursor.skip(12 + 2)  # contract, secIdType, secId
    action, quantity, order_type = cursor.take(), Decimal(cursor.take()), cursor.take()
    limit_price, aux_price, tif = _price(cursor.take()), _price(cursor.take()), cursor.take()
    cursor.skip(1)  # ocaGroup
    account = cursor.take()
    cursor.skip(2)  # openClose, origin
    order_ref = cursor.take()
    cursor.skip(6)  # transmit, parentId, blockOrder, sweepToFill, displaySize, triggerMethod
    outside_rth = cursor.take() == "1"
    cursor.skip(1)  # hidden
    if contract.sec_type == "BAG":
        raise ValueError("the fake TWS does not take combo orders")
    # '' (shares allocation) … volatilityType: 30 fields, then deltaNeutralOrderType.
    cursor.skip(30)
    if cursor.take():
        cursor.skip(8)
    cursor.skip(1)  # deltaNeutralAuxPrice
    cursor.skip(6)  # continuousUpdate … scaleSubsLevelSize
    increment = cursor.take()
    if increment and 0 < float(increment) < UNSET_DOUBLE:
        cursor.skip(7)
    cursor.skip(3)  # scaleTable, activeStartTime, activeStopTime
    if cursor.take():  # hedgeType
        cursor.skip(1)
    cursor.skip(4)  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    if cursor.take() == "1":  # delta-neutral contract
        cursor.skip(3)
    if cursor.take():  # algoStrategy
        cursor.skip(2 * int(cursor.take()))
    cursor.skip(1)  # algoId
    what_if = cursor.take() == "1"
    return PlacedOrder(
        order_id=order_id,
        contract=contract,
        action=action,
        quantity=quantity,
        order_type=order_type,
        limit_price=limit_price,
        aux_price=aux_price,
        tif=tif,
        account=account,
        order_ref=order_ref,
        outside_rth=outside_rth,
        what_if=what_if,
    )


# -- server -> client messages ------------------------------------------------------------------


def error(req_id: int, code: int, text: str) -> bytes:
    return frame([4, 2, req_id, code, text, ""])


def order_status(order_id: int, status: str, filled: Decimal, remaining: Decimal, avg_price: Decimal,
                 perm_id: int, last_price: Decimal, client_id: int) -> bytes:
    return frame([3, order_id, status, filled, remaining, avg_price, perm_id, 0, last_price, client_id, "", 0])


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """What the wire needs to describe one order in openOrder / completedOrder messages."""

    order_id: int
    client_id: int
    perm_id: int
    contract: WireContract
    action: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    account: str
    order_ref: str
    status: str
    filled: Decimal
    outside_rth: bool = False


def _unset(price: Decimal | None) -> object:
    return price if price is not None else UNSET_DOUBLE


def _named(**values: object) -> list[object]:
    """Field values in the order given; the names are those of ib_insync's decoder, so the layout reads
    side by side with ``decoder.openOrder`` / ``decoder.completedOrder``."""
    return list(values.values())


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The margin and commission answer to a what-if order."""

    init_margin_change: Decimal
    equity_with_loan: Decimal
    commission: Decimal
    warning: str = ""


def open_order(o: OrderRecord, what_if: WhatIf | None = None) -> bytes:
    """openOrder (msg 5) in decoder.openOrder's field order for server version 176."""
    fields: list[object] = [5, o.order_id, *o.contract.fields()]
    fields += _named(
        action=o.action, totalQuantity=o.quantity, orderType=o.order_type, lmtPrice=_unset(o.limit_price),
        auxPrice=_unset(o.aux_price), tif=o.tif, ocaGroup="", account=o.account, openClose="O", origin=0,
        orderRef=o.order_ref, clientId=o.client_id, permId=o.perm_id, outsideRth=o.outside_rth, hidden=False,
        discretionaryAmt=0, goodAfterTime="", sharesAllocation="",
        faGroup="", faMethod="", faPercentage="", faProfile="", modelCode="", goodTillDate="", rule80A="",
        percentOffset="", settlingFirm="", shortSaleSlot=0, designatedLocation="", exemptCode=-1,
        auctionStrategy=0, startingPrice="", stockRefPrice="", delta="", stockRangeLower="", stockRangeUpper="",
        displaySize=0, blockOrder=False, sweepToFill=False, allOrNone=False, minQty="", ocaType=0,
        eTradeOnly=False, firmQuoteOnly=False, nbboPriceCap="", parentId=0, triggerMethod=0, volatility="",
        volatilityType="", deltaNeutralOrderType="", deltaNeutralAuxPrice="",
        continuousUpdate=False, referencePriceType="", trailStopPrice="", trailingPercent="", basisPoints="",
        basisPointsType="", comboLegsDescrip="", numLegs=0, numOrderLegs=0, numSmartComboParams=0,
        scaleInitLevelSize="", scaleSubsLevelSize="", scalePriceIncrement="", hedgeType="",
        optOutSmartRouting=False, clearingAccount="", clearingIntent="", notHeld=False, dncPresent=0,
        algoStrategy="",
    )
    change = what_if.init_margin_change if what_if else ""
    equity = what_if.equity_with_loan if what_if else ""
    fields += _named(
        solicited=False, whatIf=what_if is not None, status=o.status,
        initMarginBefore=0 if what_if else "", maintMarginBefore=0 if what_if else "", equityWithLoanBefore=equity,
        initMarginChange=change, maintMarginChange=change, equityWithLoanChange=0 if what_if else "",
        initMarginAfter=change, maintMarginAfter=change, equityWithLoanAfter=equity,
        commission=what_if.commission if what_if else UNSET_DOUBLE, minCommission="", maxCommission="",
        commissionCurrency="USD" if what_if else "", warningText=what_if.warning if what_if else "",
        randomizeSize=False, randomizePrice=False, numConditions=0,
        adjustedOrderType="", triggerPrice="", trailStopPrice="", lmtPriceOffset="", adjustedStopPrice="",
        adjustedStopLimitPrice="", adjustedTrailingAmount="", adjustableTrailingUnit=0, softDollarTierName="",
        softDollarTierValue="", softDollarTierDisplayName="", cashQty="", dontUseAutoPriceForHedge=False,
        isOmsContainer=False, discretionaryUpToLimitPrice=False, usePriceMgmtAlgo=False,
        duration="", postToAts="", autoCancelParent=False,
        minTradeQty="", minCompeteSize="", competeAgainstBestOffset="", midOffsetAtWhole="", midOffsetAtHalf="",
    )
    return frame(fields)


def completed_order(o: OrderRecord, completed_time: str) -> bytes:
    """completedOrder (msg 101) in decoder.completedOrder's field order for server version 176.

    It carries no orderId or clientId: TWS identifies finished orders by permId (and our orderRef).
    """
    fields: list[object] = [101, *o.contract.fields()]
    fields += _named(
        action=o.action, totalQuantity=o.quantity, orderType=o.order_type, lmtPrice=_unset(o.limit_price),
        auxPrice=_unset(o.aux_price), tif=o.tif, ocaGroup="", account=o.account, openClose="O", origin=0,
        orderRef=o.order_ref, permId=o.perm_id, outsideRth=o.outside_rth, hidden=False, discretionaryAmt=0,
        goodAfterTime="",
        faGroup="", faMethod="", faPercentage="", faProfile="", modelCode="", goodTillDate="", rule80A="",
        percentOffset="", settlingFirm="", shortSaleSlot=0, designatedLocation="", exemptCode=-1,
        startingPrice="", stockRefPrice="", delta="", stockRangeLower="", stockRangeUpper="", displaySize=0,
        sweepToFill=False, allOrNone=False, minQty="", ocaType=0, triggerMethod=0, volatility="",
        volatilityType="", deltaNeutralOrderType="", deltaNeutralAuxPrice="",
        continuousUpdate=False, referencePriceType="", trailStopPrice="", trailingPercent="", comboLegsDescrip="",
        numLegs=0, numOrderLegs=0, numSmartComboParams=0, scaleInitLevelSize="", scaleSubsLevelSize="",
        scalePriceIncrement="", hedgeType="", clearingAccount="", clearingIntent="", notHeld=False, dncPresent=0,
        algoStrategy="",
        solicited=False, status=o.status, randomizeSize=False, randomizePrice=False, numConditions=0,
        trailStopPrice2="", lmtPriceOffset="", cashQty="", dontUseAutoPriceForHedge=False, isOmsContainer=False,
        autoCancelDate="", filledQuantity=o.filled, refFuturesConId=0, autoCancelParent=False, shareholder="",
        imbalanceOnly=False, routeMarketableToBbo=False, parentPermId=0, completedTime=completed_time,
        completedStatus=o.status,
        minTradeQty="", minCompeteSize="", competeAgainstBestOffset="", midOffsetAtWhole="", midOffsetAtHalf="",
    )
    return frame(fields)


def exec_details(req_id: int, o: OrderRecord, exec_id: str, time_text: str, shares: Decimal, price: Decimal,
                 cum_qty: Decimal, avg_price: Decimal) -> bytes:
    side = "BOT" if o.action == "BUY" else "SLD"
    return frame([11, req_id, o.order_id, *o.contract.fields(), exec_id, time_text, o.account, "ISLAND", side, shares,
                  price, o.perm_id, o.client_id, 0, cum_qty, avg_price, o.order_ref, "", "", "", 1])


def commission_report(exec_id: str, commission: Decimal) -> bytes:
    return frame([59, 1, exec_id, commission, "USD", UNSET_DOUBLE, UNSET_DOUBLE, ""])


def position(account: str, contract: WireContract, quantity: Decimal, avg_cost: Decimal) -> bytes:
    return frame([61, 3, account, *contract.fields(), quantity, avg_cost])


def portfolio(account: str, c: WireContract, quantity: Decimal, mark: Decimal, avg_cost: Decimal) -> bytes:
    multiplier = Decimal(c.multiplier or 1)
    value = quantity * mark * multiplier
    return frame([7, 8, c.con_id, c.symbol, c.sec_type, c.expiry, c.strike or "0", c.right, c.multiplier,
                  c.primary_exchange, c.currency, c.local_symbol, c.trading_class, quantity, mark, value, avg_cost,
                  value - quantity * avg_cost, 0, account])


def contract_details(req_id: int, c: WireContract, long_name: str) -> bytes:
    """contractDetails (msg 10) for server version >= 164: no version field, no mdSizeMultiplier."""
    min_tick = "0.01"
    return frame([
        10, req_id, c.symbol, c.sec_type, c.expiry, c.strike or "0", c.right, c.exchange, c.currency,
        c.local_symbol, c.trading_class, c.trading_class, c.con_id, min_tick, c.multiplier,
        "LMT,MKT,STP,STP LMT", "SMART,ISLAND,NYSE", 1, 0, long_name, c.primary_exchange, "", "", "", "",
        "US/Eastern", "", "", "", "", 0, 1, "", "", "26", "", "COMMON", "1", "1", "100",
    ])
