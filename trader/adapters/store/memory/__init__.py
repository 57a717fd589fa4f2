"""The in-memory side of the store: the same context modules as the SQL side, for backtests and tests."""
