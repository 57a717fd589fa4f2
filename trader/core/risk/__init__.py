"""Pure risk rules: sizing, caps, guards and the single check entry point."""
