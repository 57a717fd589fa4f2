"""Technical indicators over float64 arrays (TA-Lib where it has them)."""
