"""Rewrite old module paths to the layered layout (issue 17) in every tracked text file.

``--move`` also moves the files with ``git mv`` (done once, on main). Without it the script only
rewrites dotted module paths (``trader.backtest.kernel``) and file paths (``trader/backtest/kernel.py``)
in tracked files, so a branch started before the move can be brought over after a rebase. Both
rewrites are idempotent: no new path contains an old one.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# Old dotted module or package -> new one. Longest first, so a file moved out of a package wins over
# the package's own move.
MOVES: dict[str, str] = {
    # The core: pure domain, rules, simulation and research.
    "trader.backtest.optimise": "trader.core.optimise",
    "trader.backtest.events": "trader.core.backtest.event_queue",
    "trader.analytics.tax.events": "trader.core.analytics.tax.cgt_events",
    "trader.positions.events": "trader.core.positions.position_events",
    "trader.optimise": "trader.core.optimise.study",
    "trader.domain": "trader.core.domain",
    "trader.indicators": "trader.core.indicators",
    "trader.strategies": "trader.core.strategies",
    "trader.risk": "trader.core.risk",
    "trader.positions": "trader.core.positions",
    "trader.engine": "trader.core.engine",
    "trader.sim": "trader.core.sim",
    "trader.backtest": "trader.core.backtest",
    "trader.analytics": "trader.core.analytics",
    "trader.formatting": "trader.core.formatting",
    "trader.errors": "trader.core.errors",
    # The live shell around engine.step.
    "trader.services.engine_runner": "trader.live.engine_runner",
    "trader.services.engine_store": "trader.live.engine_store",
    "trader.services.execution": "trader.live.execution",
    "trader.services.order_sync": "trader.live.order_sync",
    "trader.services.trading": "trader.live.trading",
    "trader.services.candle_feed": "trader.live.candle_feed",
    "trader.services.monitor": "trader.live.monitor",
    "trader.services.reconcile": "trader.live.reconcile",
    "trader.services.alerts": "trader.live.alerts",
    "trader.services.trade_alerts": "trader.live.trade_alerts",
    "trader.services.parameters": "trader.live.parameters",
    "trader.runtime.engine_handle": "trader.live.engine_handle",
    "trader.runtime.decision_log": "trader.live.decision_log",
    "trader.runtime.fault_alerts": "trader.live.fault_alerts",
    "trader.runtime.venue_watch": "trader.live.venue_watch",
    # Adapters: one package per outside thing.
    "trader.exchange": "trader.adapters.exchange",
    "trader.store": "trader.adapters.store",
    "trader.notify": "trader.adapters.notify",
    "trader.charts": "trader.adapters.charts",
    "trader.prices": "trader.adapters.prices",
    "trader.news": "trader.adapters.news",
    "trader.runtime.health": "trader.adapters.ops.health",
    "trader.runtime.secret_store": "trader.adapters.ops.secret_store",
    "trader.runtime.log_setup": "trader.adapters.ops.log_setup",
    "trader.runtime.log_tail": "trader.adapters.ops.log_tail",
    "trader.runtime.alert_routing": "trader.adapters.notify.alert_routing",
    # Risk's decisions are entry vocabulary: positions and risk both use them, neither imports the other.
    "trader.core.risk.decision": "trader.core.domain.entries",
    # Front ends: one spelling of optimise.
    "trader.cli.optimize_cmd": "trader.cli.optimise_cmd",
}

# Unit tests mirror the package; integration tests are grouped by feature and stay.
MOVES.update({f"tests.unit.{name}": f"tests.unit.core.{name}" for name in (
    "analytics", "backtest", "domain", "engine", "indicators", "positions", "risk", "sim", "strategies",
    "test_formatting")})
MOVES.update({f"tests.unit.{name}": f"tests.unit.adapters.{name}" for name in (
    "charts", "exchange", "notify", "store")})
MOVES.update({f"tests.unit.services.{name}": f"tests.unit.live.{name}" for name in (
    "test_alerts_outbox", "test_monitor", "test_parameters", "test_reconcile", "test_trade_alerts",
    "test_trading_control", "test_trading_tick")})
MOVES.update({f"tests.unit.runtime.{name}": f"tests.unit.live.{name}" for name in (
    "test_decision_log", "test_fault_alerts")})
MOVES.update({f"tests.unit.runtime.{name}": f"tests.unit.adapters.ops.{name}" for name in (
    "test_health", "test_log_setup", "test_secret_store")})
MOVES["tests.integration.backtest.test_optimize_cli"] = "tests.integration.backtest.test_optimise_cli"

# New packages the moves create.
NEW_PACKAGES = ("trader/core", "trader/live", "trader/adapters", "trader/adapters/ops",
                "tests/unit/core", "tests/unit/live", "tests/unit/adapters", "tests/unit/adapters/ops")

TEXT_SUFFIXES = {".py", ".md", ".toml", ".ini", ".cfg", ".txt", ".yml", ".yaml", ".json", ".html", ".js", ""}


def _path(dotted: str) -> str:
    return dotted.replace(".", "/")


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    pairs: list[tuple[re.Pattern[str], str]] = []
    for old, new in sorted(MOVES.items(), key=lambda kv: -len(kv[0])):
        # Dotted: not preceded by a word char or dot (so trader.core.x never matches trader.x).
        pairs.append((re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w])"), new))
        pairs.append((re.compile(rf"(?<![\w]){re.escape(_path(old))}(?=[/.]|\b)"), _path(new)))
    return pairs


def _from_patterns() -> list[tuple[re.Pattern[str], str]]:
    """``from trader.pkg import module`` where the module moved on its own or was renamed."""
    pairs: list[tuple[re.Pattern[str], str]] = []
    for old, new in MOVES.items():
        parent, _, name = old.rpartition(".")
        new_parent, _, new_name = new.rpartition(".")
        if name == new_name:
            if parent != new_parent:
                pairs.append((re.compile(rf"from {re.escape(parent)} import {name}\b"),
                              f"from {new_parent} import {name}"))
            continue
        pairs.append((re.compile(rf"from {re.escape(parent)} import {name} as\b"),
                      f"from {new_parent} import {new_name} as"))
        pairs.append((re.compile(rf"from {re.escape(parent)} import {name}\b(?! as)"),
                      f"from {new_parent} import {new_name} as {name}"))
    return pairs


# Names that look like module paths but are public API: the plugins' entry-point group.
PROTECTED = ('"trader.strategies"', "[trader.strategies]", "``trader.strategies``", "**`trader.strategies`**",
             "`trader.strategies` entry point")


def rewrite(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    """Every old module path in ``text`` replaced by its new one (the protected names kept)."""
    for index, name in enumerate(PROTECTED):
        text = text.replace(name, f"\x00{index}\x00")
    for pattern, new in patterns:
        text = pattern.sub(new, text)
    for index, name in enumerate(PROTECTED):
        text = text.replace(f"\x00{index}\x00", name)
    return text


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout  # noqa: S603,S607


def _tracked(root: Path) -> list[Path]:
    out = _git(root, "ls-files")
    return [root / line for line in out.splitlines()
            if Path(line).suffix in TEXT_SUFFIXES or line == "Makefile"]


def _git_mv(root: Path, old: str, new: str) -> None:
    src, dst = root / old, root / new
    if src.is_dir() and dst.is_dir():  # merge a package into one that already exists
        for child in sorted(src.iterdir()):
            if child.name != "__pycache__":
                _git_mv(root, f"{old}/{child.name}", f"{new}/{child.name}")
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    _git(root, "mv", old, new)


def move(root: Path) -> None:
    """Move every package and module of MOVES with git mv: packages before the modules inside them."""
    done: list[tuple[str, str]] = []
    for old, new in sorted(MOVES.items(), key=lambda kv: len(kv[0])):
        current = _path(old)
        for moved_old, moved_new in done:  # where an earlier move put this path
            if current.startswith(moved_old + "/"):
                current = moved_new + current[len(moved_old):]
        if (root / current).is_dir():
            _git_mv(root, current, _path(new))
        elif (root / (current + ".py")).is_file():
            _git_mv(root, current + ".py", _path(new) + ".py")
        done.append((_path(old), _path(new)))
    for package in NEW_PACKAGES:
        init = root / package / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text("", encoding="utf-8")
            _git(root, "add", str(init.relative_to(root)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--move", action="store_true", help="git mv the files first (once, on main)")
    args = parser.parse_args(argv)
    root = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    if args.move:
        move(root)
    patterns = _from_patterns() + _patterns()
    changed = 0
    for file in _tracked(root):
        if not file.is_file() or file.name == "relayout.py":
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite(text, patterns)
        if new != text:
            file.write_text(new, encoding="utf-8")
            changed += 1
    print(f"rewrote {changed} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
