"""Decode PNG bytes for chart tests (matplotlib's own reader)."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from matplotlib.colors import to_rgb
from matplotlib.image import imread


def decode(png: bytes) -> npt.NDArray[np.float32]:
    """Return the image as an (height, width, channels) float array in 0..1."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(imread(io.BytesIO(png), format="png"))


def pixels_of(image: npt.NDArray[np.float32], colour: str, tolerance: float = 0.02) -> int:
    """Return how many pixels have ``colour`` (within ``tolerance`` per channel)."""
    target = np.array(to_rgb(colour), dtype=np.float32)
    return int(np.all(np.abs(image[..., :3] - target) <= tolerance, axis=-1).sum())
