"""What the live controllers hand around: the active account session, the order confirmation and account views."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.brokers.base import AccountInfo, Broker, BrokerOrder, BrokerPosition, OrderPreview
from app.controller.trading_views import OrderConfirmView
from app.controller.views import PositionView
from app.domain.live_orders import BrokerReport
from app.domain.models import AccountSummary, OrderRequest, Position, Quote, Side


@dataclass(frozen=True, slots=True)
class LiveSession:
    """The verified broker account live orders go to."""

    broker: Broker
    broker_key: str
    broker_name: str
    environment: str
    info: AccountInfo

    @property
    def account_last4(self) -> str:
        return self.info.account_last4

    @property
    def account_key(self) -> str:
        """``broker:environment:last4``: which account a daily loss and a risk denial belong to."""
        return f"{self.broker_key}:{self.environment}:{self.account_last4}"

    @property
    def is_sandbox(self) -> bool:
        return self.info.is_paper

    @property
    def account_label(self) -> str:
        kind = "sandbox" if self.is_sandbox else "live"
        return f"{self.broker_name} {kind} account …{self.account_last4}"


def confirm_view(
    session: LiveSession,
    request: OrderRequest,
    preview: OrderPreview | None,
    quote: Quote | None,
    buying_power: Decimal,
) -> OrderConfirmView:
    """The confirmation: the broker's own preview where it gave one, else an estimate from the quote."""
    cost: Decimal | None = None
    commission: Decimal | None = None
    warnings: tuple[str, ...] = ()
    source = "no estimate available"
    if preview is not None and preview.estimated_cost is not None:
        cost = abs(preview.estimated_cost)
        commission = preview.commission
        warnings = preview.warnings
        source = f"{session.broker_name} order preview"
    else:
        price = request.limit_price or _quote_price(request, quote)
        if price is not None:
            cost = (price * request.quantity * request.instrument.multiplier).quantize(Decimal("0.01"))
            source = "latest quote" if request.limit_price is None else "limit price"
        if preview is not None:
            warnings = preview.warnings
    after: Decimal | None = None
    if cost is not None:
        spent = cost + (commission or Decimal(0))
        after = buying_power - spent if request.side is Side.BUY else buying_power
    return OrderConfirmView(
        client_order_id=request.client_order_id,
        broker_name=session.broker_name,
        account_last4=session.account_last4,
        is_sandbox=session.is_sandbox,
        symbol=request.symbol,
        side=request.side.value,
        quantity=request.quantity,
        order_type=request.order_type.value,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        time_in_force=request.time_in_force.value,
        extended_hours=request.extended_hours,
        estimated_cost=cost,
        commission=commission,
        buying_power=buying_power,
        buying_power_after=after,
        estimate_source=source,
        warnings=warnings,
    )


def _quote_price(request: OrderRequest, quote: Quote | None) -> Decimal | None:
    if quote is None:
        return None
    if request.side is Side.BUY and quote.ask:
        return quote.ask
    if request.side is Side.SELL and quote.bid:
        return quote.bid
    return quote.mark


def report_of(order: BrokerOrder) -> BrokerReport:
    return BrokerReport(
        status=order.status,
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_fill_price,
        updated_at=order.updated_at,
        broker_order_id=order.broker_order_id or None,
        reason=order.reason,
        quantity=order.quantity,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        commission=order.commission,
    )


def position_view(position: BrokerPosition) -> PositionView:
    """A broker position for the positions table; the mark is implied by the broker's market value."""
    held = Position(position.symbol, position.asset_class, position.quantity, position.average_cost)
    mark = None
    if position.market_value is not None and position.quantity != 0:
        mark = position.market_value / (position.quantity * held.multiplier)
    return PositionView(held, mark)


def account_summary(info: AccountInfo, positions: list[PositionView] | None) -> AccountSummary:
    unrealized = Decimal(0)
    for view in positions or []:
        pnl = view.unrealized_pnl
        if pnl is not None:
            unrealized += pnl
    return AccountSummary(
        cash=info.cash,
        equity=info.equity,
        buying_power=info.buying_power,
        unrealized_pnl=unrealized,
        currency=info.currency,
    )
