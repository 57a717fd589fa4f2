"""Run the `tradebot` command line as `python -m trader`."""

from trader.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
