"""The README's configuration reference is generated from the settings models and must match them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]


def load_script() -> ModuleType:
    path = ROOT / "scripts" / "config_reference.py"
    spec = importlib.util.spec_from_file_location("config_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_reference_is_up_to_date() -> None:
    script = load_script()
    assert script.main(["--check"]) == 0, "run: .venv/bin/python scripts/config_reference.py --write"


def test_reference_lists_every_leaf_setting_with_its_env_name() -> None:
    text = load_script().render()
    for env in ("TRADER_DATABASE__URL", "TRADER_RISK__TRAILING__DISTANCE", "TRADER_TELEGRAM__TOKEN",
                "TRADER_OPS__DATA_DIR", "TRADER_STRATEGIES"):
        assert f"`{env}`" in text
    assert '`"sqlite+aiosqlite:///./data/trader.db"`' in text


def test_check_fails_on_a_stale_readme_and_write_repairs_it(tmp_path: Path) -> None:
    script = load_script()
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{script.START}\n| old | table |\n{script.END}\ntail\n")
    assert script.main(["--check"], readme=stale) == 1
    assert script.main(["--write"], readme=stale) == 0
    assert script.main(["--check"], readme=stale) == 0
    assert stale.read_text().endswith(f"{script.END}\ntail\n")
