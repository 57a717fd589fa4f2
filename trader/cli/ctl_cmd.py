"""`tradebot ctl status|pause|resume|halt|close|buy`: control a running service over its web API.

The service's HTTP server answers on ``--url`` (default ``$TRADER_CTL_URL``, else the configured
``ops.health_host``:``ops.health_port``). The bearer token comes from ``$TRADER_API_TOKEN`` or
``--token-file`` (never the command line, which shows in ``ps``); it needs the trader role to change
anything. ``close`` and ``buy`` show the preview first and ask before sending (``--yes`` skips it).
Exit codes: 0 done, 1 refused by the rules, declined, not allowed or not reachable.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from trader.config import load_settings
from trader.config.settings import CTL_TOKEN_ENV as TOKEN_ENV
from trader.config.settings import CTL_URL_ENV as URL_ENV
from trader.core.errors import InputError
from trader.core.formatting import money, price, qty

TIMEOUT = 30.0


def register(sub: Any) -> None:
    """Add the `ctl` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("ctl", help="control a running service over its web API")
    parser.add_argument("--url", help=f"service base URL (default ${URL_ENV}, else ops host and port)")
    parser.add_argument("--token-file", type=Path, help=f"file holding the API token (default ${TOKEN_ENV})")
    inner = parser.add_subparsers(dest="ctl_command", metavar="ACTION", required=True)
    inner.add_parser("status", help="trading state and open positions").set_defaults(func=_status)
    inner.add_parser("pause", help="stop opening positions").set_defaults(func=_simple, path="pause")
    inner.add_parser("resume", help="allow new positions again").set_defaults(func=_simple, path="resume")
    halt = inner.add_parser("halt", help="halt trading (persists across restarts)")
    halt.add_argument("--flatten", action="store_true", help="also close every position at market")
    halt.set_defaults(func=_halt)
    close = inner.add_parser("close", help="close one position (by id) or all")
    close.add_argument("target", help="position id or 'all'")
    close.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    close.set_defaults(func=_close)
    buy = inner.add_parser("buy", help="open a long by hand (amount in base; risk-sized when omitted)")
    buy.add_argument("pair", help="e.g. BTC/USDT")
    buy.add_argument("amount", nargs="?", help="amount in the base currency")
    buy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    buy.set_defaults(func=_buy)


class Api:
    """A tiny client: one method per HTTP verb, errors turned into InputError with the server's words."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.base = (args.url or os.environ.get(URL_ENV) or _configured_url(args)).rstrip("/") + "/api/v1"
        self.token = _token(args)

    def call(self, method: str, path: str, body: object = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            resp = httpx.request(method, self.base + path, json=body, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise InputError(f"{self.base}: {exc}", user_message=f"cannot reach {self.base}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                message = resp.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = resp.text[:200]
            raise InputError(message, user_message=f"{resp.status_code}: {message}")
        return resp.json()


def _configured_url(args: argparse.Namespace) -> str:
    ops = load_settings(args.config).ops
    host = "127.0.0.1" if ops.health_host in ("0.0.0.0", "::", "") else ops.health_host  # noqa: S104 - a bind-all
    return f"http://{host}:{ops.health_port}"


def _token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        token = str(args.token_file.read_text()).strip()
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise InputError("no API token", user_message=(
            f"no API token: set ${TOKEN_ENV} or pass --token-file (create one with "
            "`tradebot api token create NAME --role trader`)"))
    return token


def _outcome(result: dict[str, Any]) -> int:
    if result.get("ok"):
        print(result["message"])
        return 0
    print(f"refused: {result.get('refused_reason') or result.get('message')}", file=sys.stderr)
    return 1


def confirm(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("not confirmed (no terminal): add --yes to send it", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _status(args: argparse.Namespace) -> int:
    status = Api(args).call("GET", "/status")
    reason = f" ({status['halted_reason']})" if status.get("halted_reason") else ""
    count = len(status["positions"])
    print(f"trading {status['state']}{reason}, mode {status['mode']}, {count} open position(s)")
    for p in status["positions"]:
        print(f"  {p['id']}  {p['pair']} {p['direction']} {qty(_num(p['amount']))} @ "
              f"{price(_num(p['entry_price']))}  now {price(_num(p['current_price']))}  "
              f"PnL {money(_num(p['pnl']), status['quote'], sign=True)}  "
              f"stop {_price_or_dash(p['stop_price'])}")
    return 0


def _num(text: object) -> Decimal | None:
    """Return an API decimal string as a Decimal (None stays None: shown as 'n/a')."""
    return None if text is None else Decimal(str(text))


def _price_or_dash(text: object) -> str:
    return price(_num(text)) if text else "-"


def _simple(args: argparse.Namespace) -> int:
    return _outcome(Api(args).call("POST", f"/control/{args.path}"))


def _halt(args: argparse.Namespace) -> int:
    return _outcome(Api(args).call("POST", "/control/halt", {"flatten": args.flatten}))


def _close(args: argparse.Namespace) -> int:
    api = Api(args)
    target = None if args.target == "all" else args.target
    preview = api.call("POST", "/control/close/preview", {"target": target})
    if not preview["positions"]:
        print("nothing to close", file=sys.stderr)
        return 1
    for p in preview["positions"]:
        print(f"would close {p['id']}  {p['pair']} {p['direction']} {qty(_num(p['amount']))} "
              f"(PnL now {money(_num(p['pnl']), sign=True)})")
    if not confirm(args, "Close at market?"):
        return 1
    return _outcome(api.call("POST", "/control/close", {"target": target}))


def _buy(args: argparse.Namespace) -> int:
    api = Api(args)
    preview = api.call("POST", "/control/buy/preview", {"pair": args.pair, "amount": args.amount})
    print(f"would buy {qty(_num(preview['amount']))} {preview['pair']} at about "
          f"{price(_num(preview['price']))} (cost {money(_num(preview['cost']), preview['quote'])}, "
          f"stop {_price_or_dash(preview['stop_price'])})")
    if not confirm(args, "Send this order?"):
        return 1
    return _outcome(api.call("POST", "/control/buy", preview))
