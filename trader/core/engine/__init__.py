"""The one step function shared by backtest, paper and live."""
