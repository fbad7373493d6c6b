"""The IBKR connector and the app's single loop: a loop-factory runner like qasync's, clean imports, the fake run by hand."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.base import AccountInfo, Environment
from app.brokers.ibkr.connector import IbkrBroker, IbkrTimeouts
from app.domain.models import Quote
from tests.fakes.tws import FakeTws

ROOT = Path(__file__).parents[2]


def test_connector_runs_on_a_loop_the_event_loop_policy_does_not_know() -> None:
    """qasync on Python 3.12+ runs its loop through a loop factory, so the policy's "current" loop is
    some other loop; ib_insync looks its loop up through the policy and must still use the running one."""

    async def scenario() -> tuple[AccountInfo, dict[str, Quote]]:
        tws = FakeTws(("DU1234567",))
        tws.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
        await tws.start()
        broker = IbkrBroker({"port": str(tws.port), "client_id": "3"}, Environment.PAPER,
                            timeouts=IbkrTimeouts(connect=3.0, request=3.0, quotes=3.0))
        try:
            return await broker.verify(), await broker.quotes(["AAPL"])
        finally:
            await broker.close()
            await tws.stop()

    stray = asyncio.new_event_loop()
    asyncio.set_event_loop(stray)
    try:
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            info, quotes = runner.run(asyncio.wait_for(scenario(), 20))
    finally:
        asyncio.set_event_loop(None)
        stray.close()
    assert info.is_paper and info.account_number == "DU1234567"
    assert quotes["AAPL"].ask == Decimal("189.60")


IMPORT_IN_RUNNING_LOOP = textwrap.dedent(
    """
    import asyncio

    async def main():
        import app.brokers.ibkr.connector
        import eventkit.util
        assert eventkit.util.main_event_loop is asyncio.get_running_loop()

    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        runner.run(main())
    """
)


@pytest.mark.subprocess
@pytest.mark.parametrize("code", ["import app.brokers.ibkr.connector", IMPORT_IN_RUNNING_LOOP], ids=["plain", "in-running-loop"])
def test_importing_the_connector_raises_no_warning(code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.subprocess
async def test_fake_tws_runs_standalone_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.tws", "--port", "0", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))
        broker = IbkrBroker({"port": str(port), "client_id": "1"}, Environment.PAPER)
        try:
            info = await broker.verify()
            quotes = await broker.quotes(["MSFT", "SPY"])
        finally:
            await broker.close()
        assert info.account_number == "DU1234567"
        assert set(quotes) == {"MSFT", "SPY"}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError("the fake TWS did not stop within 30 s of Ctrl-C") from None
    assert process.returncode == 0, stderr.decode()
