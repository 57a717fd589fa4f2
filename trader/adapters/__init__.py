"""Adapters: one package per outside thing (exchange, store, notify, charts, prices, news, ops),
each implementing ports. They import the core and the ports, never each other or anything above."""
