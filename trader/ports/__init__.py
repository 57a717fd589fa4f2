"""Ports: the small Protocols services depend on; adapters implement them.

Split by port so each adapter family owns one file. Everything crossing a port is a domain
dataclass with Decimal money; no vendor objects leak through.
"""
