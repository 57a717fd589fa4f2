"""Strategy plugin API, registry and built-in strategies."""
