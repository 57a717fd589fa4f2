"""docs/portfolio.md lists the default basket as generated from trader/data/baskets/default.toml."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from trader.services.baskets import BasketCatalog

ROOT = Path(__file__).resolve().parents[3]


def load_script() -> ModuleType:
    path = ROOT / "scripts" / "basket_docs.py"
    spec = importlib.util.spec_from_file_location("basket_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documented_default_basket_is_the_shipped_file() -> None:
    script = load_script()
    assert script.main(["--check"]) == 0, "run: .venv/bin/python scripts/basket_docs.py --write"
    # and, read back, the page lists exactly the file's assets, categories and CoinGecko ids
    doc = (ROOT / "docs" / "portfolio.md").read_text(encoding="utf-8")
    block = doc.split(script.START, 1)[1].split(script.END, 1)[0]
    rows = re.findall(r"^\| ([A-Z0-9]+) \| `([a-z0-9-]+)` \| 10\.00 USD \|$", block, re.MULTILINE)
    basket = BasketCatalog.load(None).get("default")
    assert rows == [(a.symbol, a.coingecko_id) for a in basket.assets]
    assert re.findall(r"\(`([a-z0-9_-]+)`, \d+ assets\)", block) == [c.id for c in basket.categories]


def test_the_readme_points_to_the_portfolio_page() -> None:
    assert "docs/portfolio.md" in (ROOT / "README.md").read_text(encoding="utf-8")
