"""Parameter search with Optuna (TPE sampler, median pruning) over the pure evaluation in
``trader.core.optimise``: worker processes share one study through a journal file or an RDB
storage (PostgreSQL lets several machines join the same study).
"""

SAMPLERS = ("tpe", "random", "qmc")  # here, not in workers: the CLI lists them without importing Optuna
DEFAULT_BATCH = 8  # trials a lone worker asks together: TPE fits its model once for them (study.tpe)


def default_batch(jobs: int) -> int:
    """Return the batch a worker asks by default: DEFAULT_BATCH alone, 1 with other workers (they
    sample with Optuna's TPE, which refits at every ask anyway, and a round of batches could
    overshoot the study's trials by more than jobs - 1)."""
    return DEFAULT_BATCH if jobs == 1 else 1
