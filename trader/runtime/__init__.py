"""Composition root, clocks, scheduler, lifecycle and operations."""
