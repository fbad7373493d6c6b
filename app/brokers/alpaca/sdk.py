"""The alpaca-py names the Alpaca connector uses, imported in one place with its import-time warning silenced.

alpaca-py's package ``__init__`` files import its streaming clients, which import ``websockets.legacy``;
websockets 14+ warns about that at import time. We never use the streams, so that one warning is
filtered here rather than reaching the app's log (or failing a test run with ``-W error``).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="websockets.legacy is deprecated", category=DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.common.rest import RESTClient
    from alpaca.data.historical.option import OptionHistoricalDataClient
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import OptionSnapshotRequest, StockLatestQuoteRequest, StockLatestTradeRequest
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, PositionIntent, QueryOrderStatus
    from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
    from alpaca.trading.requests import (
        GetOrdersRequest,
        GetPortfolioHistoryRequest,
        LimitOrderRequest,
        MarketOrderRequest,
        ReplaceOrderRequest,
        StopLimitOrderRequest,
        StopOrderRequest,
    )
    from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest

__all__ = [
    "APIError",
    "AlpacaOrderRequest",
    "AlpacaTimeInForce",
    "GetOrdersRequest",
    "GetPortfolioHistoryRequest",
    "LimitOrderRequest",
    "MarketOrderRequest",
    "OptionHistoricalDataClient",
    "OptionSnapshotRequest",
    "OrderSide",
    "PositionIntent",
    "QueryOrderStatus",
    "RESTClient",
    "ReplaceOrderRequest",
    "StockHistoricalDataClient",
    "StockLatestQuoteRequest",
    "StockLatestTradeRequest",
    "StopLimitOrderRequest",
    "StopOrderRequest",
    "TradingClient",
]
