"""Exchange adapters: ccxt live, paper, Nobitex, Wallex."""
