"""The runtime: the composition root (settings to adapters to services), lifecycle, scheduler, clocks
and the replay driver. Wiring and drivers only; no trading rule lives here."""
