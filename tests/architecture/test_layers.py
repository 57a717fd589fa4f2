"""Architecture rules: import-linter contracts and module size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 500


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_over_size_limit() -> None:
    big = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for base in ("trader", "handlers", "web")
        for p in (ROOT / base).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert not big, f"modules over {MAX_LINES} lines: {big}"


# The first level of ``trader`` is the layers (docs/architecture.md), nothing else.
LAYERS = {"core", "ports", "live", "adapters", "services", "runtime", "cli", "config", "data"}


def test_first_level_is_the_layers() -> None:
    packages = {p.name for p in (ROOT / "trader").iterdir() if p.is_dir() and p.name != "__pycache__"}
    modules = {p.name for p in (ROOT / "trader").glob("*.py")}
    assert packages == LAYERS
    assert modules == {"__init__.py", "__main__.py"}


def test_one_name_per_meaning() -> None:
    """One event vocabulary module per meaning, named for it; one spelling of optimise."""
    names = [p.relative_to(ROOT) for base in ("trader", "handlers", "web")
             for p in (ROOT / base).rglob("*.py")]
    assert [n for n in names if n.name == "events.py"] == [Path("trader/core/engine/events.py")]
    assert not [n for n in names if "optimiz" in str(n)]


def test_store_port_contexts_partition_the_unit_of_work() -> None:
    """Each repository belongs to exactly one bounded context; the whole unit of work is their union."""
    from trader.ports.store import (
        OpsUnitOfWork,
        PortfolioUnitOfWork,
        ResearchUnitOfWork,
        TaxUnitOfWork,
        TradingUnitOfWork,
        Transaction,
        UnitOfWork,
    )

    def members(protocol: type) -> set[str]:
        return {n for n, v in vars(protocol).items() if isinstance(v, property)}

    contexts = [members(p) for p in (TradingUnitOfWork, OpsUnitOfWork, ResearchUnitOfWork, TaxUnitOfWork,
                                     PortfolioUnitOfWork)]
    union = set().union(*contexts)
    assert sum(len(c) for c in contexts) == len(union)  # disjoint
    assert not members(UnitOfWork) and not members(Transaction)  # nothing outside a context
    assert {"orders", "fills", "positions", "candles", "audit", "aud_rates", "portfolio"} <= union


def test_store_sides_have_the_same_files() -> None:
    """The SQL and the in-memory store are laid out alike: one module per context, a unit of work."""
    store = ROOT / "trader" / "adapters" / "store"
    sql = {p.name for p in (store / "sql").glob("*.py")}
    memory = {p.name for p in (store / "memory").glob("*.py")} - {"tables.py"}  # memory's overlay tables
    assert sql == memory == {"__init__.py", "uow.py", "documents.py", "trading.py", "ops.py", "research.py",
                             "tax.py", "portfolio.py"}
