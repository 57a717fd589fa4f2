"""Bundled data files (sample candles)."""
