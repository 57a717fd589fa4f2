"""Order matching simulator shared by the backtest and the paper exchange."""
