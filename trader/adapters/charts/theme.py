"""Light and dark palettes and phone-readable sizes for every chart.

Charts are 1200 x 900 px (8 x 6 in at 150 dpi): Telegram shows photos up to 1280 px wide, and at this
scale an 11 pt font stays legible on a phone screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Theme:
    """Colours and sizes; pick one with ``theme(name)``."""

    name: str
    background: str
    text: str
    grid: str
    up: str
    down: str
    line: str
    fill: str
    overlays: tuple[str, ...]
    stop: str
    take_profit: str
    trailing: str
    entry: str
    exit: str
    width_in: float = 8.0
    height_in: float = 6.0
    dpi: int = 150
    font_size: float = 11.0

    @property
    def pixels(self) -> tuple[int, int]:
        """Return the PNG size (width, height) in pixels."""
        return round(self.width_in * self.dpi), round(self.height_in * self.dpi)


LIGHT: Final = Theme(
    name="light", background="#ffffff", text="#1f2328", grid="#d8dee4", up="#1a7f37", down="#cf222e",
    line="#0969da", fill="#ddf4ff", overlays=("#8250df", "#bf8700", "#0550ae", "#953800"),
    stop="#cf222e", take_profit="#1a7f37", trailing="#bf8700", entry="#0969da", exit="#6e7781",
)
DARK: Final = Theme(
    name="dark", background="#0d1117", text="#e6edf3", grid="#30363d", up="#3fb950", down="#f85149",
    line="#58a6ff", fill="#102a43", overlays=("#d2a8ff", "#e3b341", "#79c0ff", "#ffa657"),
    stop="#f85149", take_profit="#3fb950", trailing="#e3b341", entry="#58a6ff", exit="#8b949e",
)
THEMES: Final = {t.name: t for t in (LIGHT, DARK)}


def theme(name: str) -> Theme:
    """Return the theme called ``name`` ('light' or 'dark'); ValueError names the choices otherwise."""
    try:
        return THEMES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown chart theme {name!r}; choose one of {', '.join(THEMES)}") from None
