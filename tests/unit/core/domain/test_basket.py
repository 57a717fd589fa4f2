"""Basket files: the shipped default basket, weights from amounts or given, and clear errors for bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from trader.core.domain.basket import parse_basket
from trader.core.errors import InputError
from trader.services.baskets import BasketCatalog, default_basket_text, load_basket_file

HEAD = '[basket]\nname = "mine"\nquote = "USD"\n\n[[categories]]\nid = "a"\ntitle = "A"\n\n'


def test_the_default_basket_has_103_assets_in_8_categories_at_10_usd_each() -> None:
    basket = parse_basket(default_basket_text(), "default.toml")
    assert basket.name == "default" and basket.quote == "USD"
    assert len(basket.assets) == 103
    assert len(basket.categories) == 8
    assert {a.category for a in basket.assets} == {c.id for c in basket.categories}
    assert all(a.amount == Decimal(10) for a in basket.assets)
    assert basket.total_amount == Decimal(1030)
    assert len({a.symbol for a in basket.assets}) == 103
    assert all(a.coingecko_id for a in basket.assets)  # no ticker left to CoinGecko's guesswork
    assert abs(sum(a.weight for a in basket.assets) - 1) < Decimal("1e-20")
    assert basket.asset("btc") is not None and basket.coingecko_ids["BTC"] == "bitcoin"
    counts = {c.id: sum(1 for a in basket.assets if a.category == c.id) for c in basket.categories}
    assert all(count >= 10 for count in counts.values()), counts


def test_weights_come_from_amounts_or_are_given() -> None:
    by_amount = parse_basket(HEAD + '[[assets]]\nsymbol = "btc"\ncategory = "a"\namount = 30\n\n'
                                    '[[assets]]\nsymbol = "ETH"\ncategory = "a"\namount = 10.5\n', "x")
    assert [(a.symbol, a.weight) for a in by_amount.assets] == [
        ("BTC", Decimal(30) / Decimal("40.5")), ("ETH", Decimal("10.5") / Decimal("40.5"))]
    assert by_amount.total_amount == Decimal("40.5")
    by_weight = parse_basket(HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\nweight = 0.6\n\n'
                                    '[[assets]]\nsymbol = "ETH"\ncategory = "a"\nweight = 0.4\n'
                                    'coingecko_id = "ethereum"\n', "x")
    assert [a.weight for a in by_weight.assets] == [Decimal("0.6"), Decimal("0.4")]
    assert by_weight.total_amount is None and by_weight.coingecko_ids == {"ETH": "ethereum"}


@pytest.mark.parametrize(("text", "problem"), [
    ("[basket\nname=", "not valid TOML"),
    ('[[assets]]\nsymbol = "BTC"\n', "missing the [basket] table"),
    ('[basket]\nname = "Bad Name"\n[[categories]]\nid = "a"\n[[assets]]\nsymbol = "BTC"\ncategory = "a"\n'
     'amount = 1\n', "[basket] name 'Bad Name'"),
    (HEAD, "no [[assets]]"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "b"\namount = 1\n', "category 'b' is not declared"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = -1\n',
     "asset BTC amount: -1 must be above 0"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\n', "asset BTC: give a weight or an amount"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = 1\nweight = 0.5\n', "not both"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = 1\n[[assets]]\nsymbol = "btc"\n'
            'category = "a"\namount = 1\n', "asset BTC is listed twice"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\nweight = 0.5\n[[assets]]\nsymbol = "ETH"\n'
            'category = "a"\nweight = 0.2\n', "the weights add up to 0.7, not 1"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\nweight = 0.5\n[[assets]]\nsymbol = "ETH"\n'
            'category = "a"\namount = 2\n', "mix of weights and amounts"),
    (HEAD + '[[assets]]\nsymbol = "BTC/USDT"\ncategory = "a"\namount = 1\n', "is not a ticker"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = 1\ncoingecko_id = "Bit Coin"\n',
     "is not a CoinGecko id"),
    (HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = 1\nprice = 3\n', "unknown key(s) price"),
])
def test_a_bad_file_names_the_file_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_basket(text, "baskets/mine.toml")
    assert "baskets/mine.toml: " in caught.value.user_message
    assert problem in caught.value.user_message, caught.value.user_message


def test_the_catalog_adds_a_folder_and_refuses_a_name_defined_twice(tmp_path: Path) -> None:
    good = HEAD + '[[assets]]\nsymbol = "BTC"\ncategory = "a"\namount = 5\n'
    (tmp_path / "mine.toml").write_text(good)
    catalog = BasketCatalog.load(tmp_path)
    assert catalog.names == ("default", "mine")
    assert catalog.get("MINE").assets[0].amount == Decimal(5)
    with pytest.raises(InputError, match=r"No basket called nope; known: default, mine\."):
        catalog.get("nope")
    (tmp_path / "again.toml").write_text(good)
    with pytest.raises(InputError, match="defined in two files"):
        BasketCatalog.load(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        BasketCatalog.load(tmp_path / "missing")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match=r"bad\.toml"):
        load_basket_file(tmp_path / "bad.toml")
