"""Simulated exchange shared by the backtest and the PaperExchange: fill rules, costs, ledger.

``matching`` states the fill semantics once; ``costs`` holds FeeModel and SlippageModel; ``ledger``
keeps simulated balances and resting orders. See docs/backtesting.md for the full fill model.
"""
