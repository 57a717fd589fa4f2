"""The live shell around ``engine.step``: the cycle and its outbox, order sync, candle ticks, the
protection monitor, reconciliation, alert dispatch, parameters and the engine handle (live, paper,
replay). It talks to ports only; the runtime hands it the adapters."""
