"""Pure domain vocabulary shared by every layer: enums, money, markets, candles, orders, ids."""
