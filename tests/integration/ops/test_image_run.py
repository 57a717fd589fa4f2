"""The installed package run the way the image runs it: non-root, read-only install and HOME.

The image crashed on every `tradebot run` with "cannot cache function '_level': no locator available":
numba could write its cache neither next to the read-only sources nor under the read-only HOME.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.fixtures.unprivileged import Unprivileged

pytestmark = pytest.mark.slow


def test_replay_trades_and_exits_0_as_non_root_with_read_only_install_and_home(
        unprivileged: Unprivileged) -> None:
    assert unprivileged.run("db", "upgrade").returncode == 0
    done = unprivileged.run("run", "--replay", "--speed", "36000000", "--max-candles", "60")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "no locator available" not in log
    assert "fill buy" in log and "replay: stopped after 60 candle(s)" in log
    with sqlite3.connect(unprivileged.data / "trader.db") as conn:
        assert conn.execute("SELECT count(*) FROM fills").fetchone()[0] >= 1
    assert not any(unprivileged.app.rglob("*.nbi")), "numba wrote into the read-only install"
