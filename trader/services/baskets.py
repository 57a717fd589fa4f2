"""The basket catalog: the built-in default basket (package data) and the *.toml files of a folder."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from trader.core.domain.basket import Basket, parse_basket
from trader.core.errors import InputError
from trader.core.formatting import money

DEFAULT_BASKET = "default"


def default_basket_text() -> str:
    """Return the text of the shipped default basket (trader/data/baskets/default.toml)."""
    return resources.files("trader.data").joinpath("baskets/default.toml").read_text(encoding="utf-8")


def load_basket_file(path: Path) -> Basket:
    """Parse one basket file; InputError names the file and every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read basket file {path}: {exc}",
                         user_message=f"Cannot read basket file {path}: {exc}") from None
    return parse_basket(text, str(path))


@dataclass(frozen=True, slots=True)
class BasketCatalog:
    """Baskets by name: the default one, then each file of ``folder`` (a file may replace the default)."""

    baskets: tuple[Basket, ...]

    @classmethod
    def load(cls, folder: str | Path | None = None) -> BasketCatalog:
        """Load the default basket and the folder's *.toml files; InputError for a bad file or a clash."""
        found: dict[str, Basket] = {DEFAULT_BASKET: parse_basket(default_basket_text(), "default.toml")}
        origin: dict[str, Path] = {}
        if folder is not None:
            root = Path(folder).expanduser()
            if not root.is_dir():
                raise InputError(f"The basket folder {root} does not exist.")
            for path in sorted(root.glob("*.toml")):
                basket = load_basket_file(path)
                if basket.name in origin:
                    raise InputError(f"Basket {basket.name} is defined in two files: "
                                     f"{origin[basket.name]} and {path}.")
                origin[basket.name] = path
                found[basket.name] = basket
        return cls(tuple(found.values()))

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return every ticker of every basket, once each (news tagging looks for them)."""
        return tuple(sorted({a.symbol for b in self.baskets for a in b.assets}))

    @property
    def names(self) -> tuple[str, ...]:
        """Return the basket names in load order."""
        return tuple(b.name for b in self.baskets)

    def get(self, name: str) -> Basket:
        """Return the basket called ``name``; InputError listing the known ones otherwise."""
        for basket in self.baskets:
            if basket.name == name.lower():
                return basket
        raise InputError(f"No basket called {name}; known: {', '.join(self.names)}.")


def basket_markdown(basket: Basket) -> str:
    """Return the basket's list as Markdown (docs/portfolio.md embeds it for the default basket)."""
    amount = basket.total_amount
    lines = [f"{len(basket.assets)} assets in {len(basket.categories)} categories"
             + (f", {money(amount, basket.quote)} in all." if amount is not None else ".")]
    for category in basket.categories:
        mine = [a for a in basket.assets if a.category == category.id]
        heading = f"**{category.title}** (`{category.id}`, {len(mine)} assets): {category.description}"
        lines += ["", heading, "", "| symbol | CoinGecko id | amount |", "|---|---|---|"]
        lines += [f"| {a.symbol} | `{a.coingecko_id or ''}` | "
                  f"{money(a.amount, basket.quote) if a.amount is not None else '-'} |" for a in mine]
    return "\n".join(lines)
