"""SQLAlchemy tables of the local database; money as exact decimal text, times as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text, so no money ever passes through a float."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as ISO-8601 UTC text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).isoformat()

    def process_result_value(self, value: str | None, dialect: object) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SettingRow(Base):
    """Small app settings as JSON text by key (paper settings, trading mode, window state)."""

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PaperAccountRow(Base):
    __tablename__ = "paper_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starting_cash: Mapped[Decimal] = mapped_column(DecimalText)
    cash: Mapped[Decimal] = mapped_column(DecimalText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reset_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OrderRow(Base):
    """Every order the app has created, paper or live: the order journal."""

    __tablename__ = "orders"
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), index=True)
    broker: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    asset_class: Mapped[str] = mapped_column(String(10))
    side: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    order_type: Mapped[str] = mapped_column(String(12))
    time_in_force: Mapped[str] = mapped_column(String(8))
    limit_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    extended_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    position_effect: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    filled_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    average_fill_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    broker_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    stop_triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Live orders: the last 4 characters of the broker account; never the whole number.
    account_last4: Mapped[str] = mapped_column(String(4), default="", server_default="")
    #: Live orders placed outside the app and adopted at reconciliation.
    external: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Paper orders: when a change last cost the order its place in the queue (NULL: when it was placed).
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    # The orders table's pages: its order (a column, then newest first, then id) under the mode filter.
    __table_args__ = (
        Index("ix_orders_mode_created_page", "mode", created_at.desc(), "client_order_id"),
        Index("ix_orders_mode_symbol_page", "mode", "symbol", created_at.desc(), "client_order_id"),
        Index("ix_orders_mode_status_page", "mode", "status", created_at.desc(), "client_order_id"),
    )


class FillRow(Base):
    __tablename__ = "fills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal] = mapped_column(DecimalText)
    commission: Mapped[Decimal] = mapped_column(DecimalText)
    filled_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PaperPositionRow(Base):
    __tablename__ = "paper_positions"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    asset_class: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    average_cost: Mapped[Decimal] = mapped_column(DecimalText)
    realized_pnl: Mapped[Decimal] = mapped_column(DecimalText)


class BarRow(Base):
    """One cached OHLCV bar; bars from different sources are kept apart (a broker's and Cboe's may differ)."""

    __tablename__ = "bars"
    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    open: Mapped[Decimal] = mapped_column(DecimalText)
    high: Mapped[Decimal] = mapped_column(DecimalText)
    low: Mapped[Decimal] = mapped_column(DecimalText)
    close: Mapped[Decimal] = mapped_column(DecimalText)
    volume: Mapped[Decimal] = mapped_column(DecimalText)


class EquitySampleRow(Base):
    """The paper account's cash and equity at a moment, valued at the marks of that moment."""

    __tablename__ = "equity_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    cash: Mapped[Decimal] = mapped_column(DecimalText)
    equity: Mapped[Decimal] = mapped_column(DecimalText)


class BrokerEquitySampleRow(Base):
    """A broker account's cash and equity as TradeBridge read them while connected (``broker:environment:last4``)."""

    __tablename__ = "broker_equity_samples"
    __table_args__ = (Index("ix_broker_equity_samples_account_at", "account_key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    cash: Mapped[Decimal] = mapped_column(DecimalText)
    equity: Mapped[Decimal] = mapped_column(DecimalText)


class OrderEventRow(Base):
    """One change of an order as it happened: status, fills so far, prices, broker id, reason."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    limit_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    filled_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    average_fill_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    broker_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
