"""Run the `tradebot` command line as `python -m trader`."""

from trader.cli import main

raise SystemExit(main())
