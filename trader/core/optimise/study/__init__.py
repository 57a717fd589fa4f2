"""Parameter search with Optuna (TPE sampler, median pruning) over the pure evaluation in
``trader.core.optimise``: worker processes share one study through a journal file or an RDB
storage (PostgreSQL lets several machines join the same study).
"""

SAMPLERS = ("tpe", "random", "qmc")  # here, not in workers: the CLI lists them without importing Optuna
