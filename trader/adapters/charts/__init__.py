"""Matplotlib chart rendering (Figure API, Agg) to PNG bytes."""
