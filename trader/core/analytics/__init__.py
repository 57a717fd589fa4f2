"""KPIs, performance tables and tax reports for live records and backtests."""
