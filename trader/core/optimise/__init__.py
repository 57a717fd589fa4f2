"""Pure parts of parameter optimisation and bias checks: search spaces from Param specs, objective
functions, walk-forward folds, window evaluation, and the look-ahead / warm-up checks.

No Optuna here: the study driver lives in ``trader.core.optimise.study``; storage URLs stay at
the CLI edge.
"""
