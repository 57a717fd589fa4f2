"""Position state machine, protection, trailing stops and PnL."""
