"""Strategies, registered by name. Importing this package registers every one listed here."""
from ict.strategies.base import Strategy, register, strategy_class, strategy_names
from ict.strategies.context import Change, Chart, Context, PositionView, RefusalView
from ict.strategies import mock_three_candles  # noqa: F401  (registers Mock_ThreeCandles_v1)
from ict.strategies import fvg_market_entry  # noqa: F401  (registers FVG_Market_Entry_v1)
from ict.strategies import ob_limit_entry  # noqa: F401  (registers OB_Limit_Entry_v1)
from ict.strategies import silver_bullet  # noqa: F401  (registers Silver_Bullet_v1)

__all__ = ["Change", "Chart", "Context", "PositionView", "RefusalView", "Strategy", "register", "strategy_class",
           "strategy_names"]
