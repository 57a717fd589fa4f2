"""Net capital losses carry forward from the records' own earlier years, and the summary shows the amount
used; every figure below is worked by hand from the ATO method statement (ITAA 1997 s102-5):
this year's losses, then prior-year losses, come off the gains BEFORE the 50 % discount, non-discount
gains first; what is left of the losses carries forward.

The case (AUD markets, no fees, so every amount is exact):

FY2022-23  buy 1 BTC 2022-08-01 @ 30,000, sell 2022-11-01 @ 20,000      loss 10,000 -> carried 10,000
FY2023-24  buy 1 BTC 2023-08-01 @ 20,000, sell 2023-10-01 @ 24,000      gain  4,000 (held < 12 months)
           buy 1 BTC 2023-09-01 @ 10,000 (FIFO: the October sale used the August parcel)
           net gain 4,000 - 10,000 brought forward = 0; applied 4,000, carried 6,000
FY2024-25  buy 1 SOL 2024-07-10 @ 500, sell 2024-07-20 @ 200            loss   300
           buy 1 ETH 2024-08-01 @ 3,000, sell 2024-09-01 @ 4,000        gain 1,000 (non-discount)
           sell 1 BTC 2024-12-01 @ 30,000 (bought 2023-09-01)            gain 20,000 (discount)
           losses 300 + 6,000 = 6,300: 1,000 off the non-discount gain, 5,300 off the discount one,
           (20,000 - 5,300) x 50 % = 7,350 net capital gain; applied 6,000, carried 0.
Ignoring the carried loss (the old behaviour): (1,000 - 300) + 20,000 x 50 % = 10,700.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.core.analytics.tax.fixtures import fill
from trader.adapters.charts.tax_summary import tax_summary_figure
from trader.cli import main
from trader.core.analytics.tax import AudRates, build_cgt_report, cgt_csv, events_from_fills, net_capital_gain
from trader.core.analytics.tax.export import summary_rows

D = Decimal
FILLS = [
    fill("2022-08-01T02:00", "BTC/AUD", "buy", "1", "30000"),
    fill("2022-11-01T02:00", "BTC/AUD", "sell", "1", "20000"),
    fill("2023-08-01T02:00", "BTC/AUD", "buy", "1", "20000"),
    fill("2023-09-01T02:00", "BTC/AUD", "buy", "1", "10000"),
    fill("2023-10-01T02:00", "BTC/AUD", "sell", "1", "24000"),
    fill("2024-07-10T02:00", "SOL/AUD", "buy", "1", "500"),
    fill("2024-07-20T02:00", "SOL/AUD", "sell", "1", "200"),
    fill("2024-08-01T02:00", "ETH/AUD", "buy", "1", "3000"),
    fill("2024-09-01T02:00", "ETH/AUD", "sell", "1", "4000"),
    fill("2024-12-01T02:00", "BTC/AUD", "sell", "1", "30000"),
]


def summary(year: int, opening: Decimal = Decimal(0)) -> dict[str, Decimal]:
    report = build_cgt_report(events_from_fills(FILLS, AudRates([])), year, opening_losses=opening)
    return {k: D(v) for k, v in summary_rows(report) if k.endswith("_aud")}


@pytest.mark.parametrize(("year", "brought", "applied", "net", "carried"), [
    (2023, "0", "0", "0", "10000"),
    (2024, "10000", "4000", "0", "6000"),
    (2025, "6000", "6000", "7350", "0"),  # 10,700 without the carried loss
    (2026, "0", "0", "0", "0"),  # a year without disposals
])
def test_losses_of_the_records_own_years_carry_forward(year: int, brought: str, applied: str, net: str,
                                                       carried: str) -> None:
    s = summary(year)
    assert (s["prior_year_losses_brought_forward_aud"], s["prior_year_losses_applied_aud"],
            s["net_capital_gain_aud"], s["losses_carried_forward_aud"]) == (D(brought), D(applied), D(net),
                                                                           D(carried))


def test_losses_from_before_the_records_join_the_chain() -> None:
    # 2,000 carried into FY2022-23: 12,000 out of it, 8,000 out of FY2023-24; FY2024-25 losses 8,300:
    # 1,000 off the non-discount gain, 7,300 off the discount one: (20,000 - 7,300) x 50 % = 6,350
    s = summary(2025, D(2000))
    assert s["capital_losses_before_records_aud"] == D(2000)
    assert (s["prior_year_losses_brought_forward_aud"], s["prior_year_losses_applied_aud"],
            s["net_capital_gain_aud"], s["losses_carried_forward_aud"]) == (D(8000), D(8000), D(6350), D(0))


def test_applied_prior_losses_are_the_amount_used_not_the_amount_passed_in() -> None:
    # the figures: 5,000 brought forward against 1,100 of gains uses 1,100 and carries 3,900
    s = net_capital_gain([(D(1100), False)], prior_year_losses=D(5000))
    assert (s.prior_year_losses, s.prior_year_losses_applied, s.losses_carried_forward) == (
        D(5000), D(1100), D(3900))
    # this year's losses go first: 300 of them leave 800 of gain for the prior-year losses
    s = net_capital_gain([(D(1100), True), (D(-300), False)], prior_year_losses=D(5000))
    assert (s.prior_year_losses_applied, s.losses_carried_forward, s.net_capital_gain) == (
        D(800), D(4200), D(0))
    report = build_cgt_report(events_from_fills(FILLS, AudRates([])), 2024)
    rows = {r[1]: r[2] for r in csv.reader(io.StringIO(cgt_csv(report))) if r and r[0] == "summary"}
    assert rows["prior_year_losses_applied_aud"] == "4000.00"
    assert rows["prior_year_losses_brought_forward_aud"] == "10000.00"


def test_cli_export_carries_losses_without_prior_losses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    lines = ["timestamp,symbol,side,amount,price,fee,fee_currency,trade_id"]
    lines += [f"{f.timestamp.isoformat()},{f.symbol},{f.side.value},{f.amount},{f.price},0,AUD,t{i}"
              for i, f in enumerate(FILLS)]
    (tmp_path / "fills.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "rates.csv").write_text("date,currency,aud_rate,source\n")
    code = main(["tax", "export", "--year", "2025", "--fills", "fills.csv", "--rates", "rates.csv",
                 "--out", "out"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.reader((tmp_path / "out" / "cgt_FY2024-25_fifo.csv").open()))
    totals = {r[1]: r[2] for r in rows if r and r[0] == "summary"}
    assert totals["net_capital_gain_aud"] == "7350.00"
    assert totals["prior_year_losses_brought_forward_aud"] == "6000.00"
    assert "prior-year losses brought forward 6,000.00 AUD" in out
    assert "net capital gain 7,350.00 AUD" in out and "ATO: FIFO is accepted" in out
    koinly = list(csv.DictReader((tmp_path / "out" / "koinly_FY2024-25.csv").open()))
    assert [k["TxHash"] for k in koinly] == ["t5", "t6", "t7", "t8", "t9"]


def test_summary_page_shows_the_losses_brought_forward_and_used_aligned() -> None:
    report = build_cgt_report(events_from_fills(FILLS, AudRates([])), 2025, opening_losses=D(2000))
    text_ax, bar_ax = tax_summary_figure(report).axes
    table = text_ax.texts[0].get_text().splitlines()
    amounts = {line.split(":")[0]: line for line in table if "(AUD)" in line}
    assert amounts["prior year losses brought forward (AUD)"].endswith(" 8,000.00")
    assert amounts["prior year losses applied (AUD)"].endswith(" 8,000.00")
    assert amounts["capital losses before records (AUD)"].endswith(" 2,000.00")
    assert amounts["net capital gain (AUD)"].endswith(" 6,350.00")
    assert len({len(line) for line in amounts.values()}) == 1  # right-aligned: decimal points line up
    assert sorted(t.get_text() for t in bar_ax.texts) == ["-300.00", "1,000.00", "20,000.00"]
