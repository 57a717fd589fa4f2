"""Install the example strategy plugin into the running venv when it is missing (real pip, offline)."""

from __future__ import annotations

import importlib
import site
import subprocess
import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "trader_example_strategy"
DIST_NAME = "trader-example-strategy"


def ensure_example_plugin() -> None:
    """Pip-install examples/trader_example_strategy (editable, no deps) unless already installed."""
    try:
        distribution(DIST_NAME)
    except PackageNotFoundError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e",
             str(EXAMPLE)],
            check=True,
        )  # fmt: skip
        # The editable install is a .pth file: process it so this interpreter sees the package too.
        site.addsitedir(sysconfig.get_paths()["purelib"])
        importlib.invalidate_caches()
