"""The fake TWS against the recorded ib_insync session, and the parts of it the connector does not use."""

from __future__ import annotations

import asyncio
import json
import math
import struct
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.ibkr.connector import bind_running_loop, ib_api
from tests.fakes import tws_wire as wire
from tests.fakes.tws import FakeTws

TRANSCRIPT = Path(__file__).parents[1] / "fixtures" / "ibkr" / "wire_transcript_ib_insync_0.9.86_server176.json"
#: The message that ends the answer to each recorded request.
END_OF = {"61": "62", "5": "53", "99": "102", "6": "54", "76": "74", "7": "55", "62": "64", "4": "4"}


def _conversation() -> list[tuple[list[str], list[list[str]]]]:
    """Recorded (request, answers) pairs after the opening handshake."""
    messages = json.loads(TRANSCRIPT.read_text())["messages"]
    pairs: list[tuple[list[str], list[list[str]]]] = []
    for message in messages[1:]:
        if message["dir"] == "C>S":
            pairs.append((message["fields"], []))
        elif pairs:
            pairs[-1][1].append(message["fields"])
    return pairs


class _Socket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def raw_frame(self) -> bytes:
        header = await asyncio.wait_for(self.reader.readexactly(4), 5)
        return header + await self.reader.readexactly(struct.unpack(">I", header)[0])

    async def frame(self) -> list[str]:
        return await asyncio.wait_for(wire.read_frame(self.reader), 5)

    def send(self, fields: list[str]) -> None:
        self.writer.write(wire.frame(fields))


@pytest.fixture
async def tws() -> AsyncIterator[FakeTws]:
    fake = FakeTws(("DU1234567",))
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    fake.set_quote("SPY", Decimal("512.40"), Decimal("512.45"), Decimal("512.42"), live=False)
    await fake.start()
    yield fake
    await fake.stop()


async def test_fake_answers_the_recorded_session(tws: FakeTws) -> None:
    tws.hold_position("AAPL", Decimal(10), Decimal("150.25"))
    reader, writer = await asyncio.open_connection("127.0.0.1", tws.port)
    sock = _Socket(reader, writer)
    try:
        writer.write(b"API\0" + struct.pack(">I", 9) + b"v157..176")
        opening = await sock.raw_frame()
        # Same length and version as the recorded "176", "20250102 09:30:00 EST"; only the time differs.
        assert opening[:8] == b"\x00\x00\x00\x1a176\x00"

        (start_api, recorded_answers), *requests = _conversation()
        sock.send(start_api)
        assert await sock.raw_frame() == wire.frame(recorded_answers[0]) == b"\x00\x00\x00\x069\x001\x001\x00"
        assert await sock.raw_frame() == wire.frame(recorded_answers[1]) == b"\x00\x00\x00\x0f15\x001\x00DU1234567\x00"
        assert await sock.frame() == recorded_answers[2]  # 2104 market data farm OK
        for _ in range(2):
            assert (await sock.frame())[3] in ("2106", "2158")
        # The recorded session cancels its own order 4 at the end; book it as TWS would have.
        tws.submit_order(7, 4, "AAPL", "BUY", Decimal(5), Decimal("101.5"), order_ref="my-ref-1")

        for request, recorded in requests:
            if request[0] not in END_OF:
                continue  # placeOrder is truncated in the log; the connector tests cover it
            sock.send(request)
            answers = [await sock.frame()]
            while answers[-1][0] != END_OF[request[0]]:
                answers.append(await sock.frame())
            kinds = {(a[0], len(a)) for a in answers}
            assert {(r[0], len(r)) for r in recorded} <= kinds, request[:3]
            if request[0] == "4":
                assert [a[:6] + a[7:] for a in answers] == [r[:6] + r[7:] for r in recorded]  # all but the permId
            else:
                assert answers[-1] == recorded[-1], request[:3]
    finally:
        writer.close()


async def test_real_client_reads_contract_details_and_market_data_types(tws: FakeTws) -> None:
    bind_running_loop()
    ib = ib_api.IB()
    await ib.connectAsync("127.0.0.1", tws.port, clientId=5, timeout=3)
    try:
        [stock] = await ib.reqContractDetailsAsync(ib_api.Stock("AAPL", "SMART", "USD"))
        assert (stock.contract.symbol, stock.contract.secType, stock.minTick) == ("AAPL", "STK", 0.01)
        option_contract = ib_api.Contract(secType="OPT", localSymbol="AAPL  250117C00150000", exchange="SMART", currency="USD")
        [option] = await ib.reqContractDetailsAsync(option_contract)
        assert (option.contract.lastTradeDateOrContractMonth, option.contract.strike, option.contract.right,
                option.contract.multiplier) == ("20250117", 150.0, "C", "100")
        assert await ib.reqContractDetailsAsync(ib_api.Stock("ZZZZQ", "SMART", "USD")) == []

        # Without a subscription TWS sends error 354 and no prices until delayed data is asked for.
        [unsubscribed] = await ib.reqTickersAsync(ib_api.Stock("SPY", "SMART", "USD"))
        assert math.isnan(unsubscribed.bid) and math.isnan(unsubscribed.last)
        ib.reqMarketDataType(3)
        [delayed] = await ib.reqTickersAsync(ib_api.Stock("SPY", "SMART", "USD"))
        assert (delayed.marketDataType, delayed.bid, delayed.ask, delayed.last) == (3, 512.40, 512.45, 512.42)
        [live] = await ib.reqTickersAsync(ib_api.Stock("AAPL", "SMART", "USD"))
        assert (live.marketDataType, live.bid, live.ask) == (1, 189.50, 189.60)
    finally:
        ib.disconnect()
