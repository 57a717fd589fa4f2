"""Run every benchmark script in bench/ (each prints its own table) and summarise; `make bench` calls this.

Usage: .venv/bin/python bench/run_all.py [NAME ...]   (names without .py; default: all scripts)
Scripts run one after another in their own process so one cannot skew another's timings or memory.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str]) -> list[Path]:
    """Return the bench scripts to run, in name order; unknown names are an error."""
    mine = Path(__file__).name
    found = sorted(p for p in HERE.glob("*.py") if p.name != mine and not p.name.startswith("_"))
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown bench script(s): {', '.join(unknown)}; have: {', '.join(by_name)}")
    return [by_name[n] for n in names]


def main(argv: list[str]) -> int:
    results = []
    for script in scripts(argv):
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode
        results.append((script.name, code, time.perf_counter() - started))
    print("\n=== summary ===")
    for name, code, seconds in results:
        print(f"{name:<28} {'ok' if code == 0 else f'FAILED ({code})':<12} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
