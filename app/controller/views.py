"""Records the controllers hand to the views: display-ready, immutable, free of I/O types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.models import Position


@dataclass(frozen=True, slots=True)
class PositionView:
    position: Position
    mark: Decimal | None

    @property
    def symbol(self) -> str:
        return self.position.symbol

    @property
    def market_value(self) -> Decimal | None:
        return self.position.market_value(self.mark)

    @property
    def unrealized_pnl(self) -> Decimal | None:
        return self.position.unrealized_pnl(self.mark)
