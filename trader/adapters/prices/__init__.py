"""Price sources beside the exchange (CoinGecko): an adapter behind ``ports.prices.PriceSource``."""
