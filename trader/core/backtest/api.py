"""``run_backtest``: the one call behind the CLI, the Telegram /backtest service and the bench.

strategy.compute over each pair's whole history (vectorised) -> event-driven simulation through
``engine.step`` -> BacktestResult. Pure: data comes in as CandleFrames, nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from trader.core.backtest import fast, fast_pairs
from trader.core.backtest.markets import default_market
from trader.core.backtest.result import BacktestResult, build_result
from trader.core.backtest.runner import BacktestSettings, Progress, RunOutput, compute_signals, simulate
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.errors import DataError
from trader.core.strategies.base import SignalFrame, Strategy


def assumptions(settings: BacktestSettings, has_detail: bool) -> dict[str, str]:
    """Return the fill model and costs of a run in words (shown in reports, stored with results)."""
    fees = "each market's maker/taker fee" if settings.fees is None else (
        f"{settings.fees.taker * 100:g} % taker, {settings.fees.maker * 100:g} % maker per side")
    notes = {
        "fills": "signals on candle close; market orders at the next open plus slippage; stops at the "
                 "stop (or the open on a gap); take-profits at their price; trailing stops move after "
                 "the candle's stop check",
        "ambiguous candles": "resolved with lower-timeframe candles" if has_detail
        else "stop and take-profit in one candle: the stop (worse outcome)",
        "fees": fees,
        "slippage": f"{settings.slippage.rate * 100:g} % on taker fills",
    }
    terms = settings.futures
    if terms is not None:
        notes["market"] = (f"linear perpetuals at {terms.leverage}x {terms.margin_mode} margin, "
                           f"{'longs and shorts' if settings.allow_short else 'longs only'}; entries refused "
                           f"unless the stop is inside the liquidation price")
        charged = ", ".join(sorted(settings.funding))
        notes["funding"] = f"charged at each funding time from the rate history: {charged}" if charged \
            else "not charged (no funding-rate history given: --funding-dir)"
    return notes


def slice_signals(frame: SignalFrame, start: int) -> SignalFrame:
    """Return rows ``start:`` of a signal frame."""
    return SignalFrame(frame.timestamp[start:], frame.enter_long[start:], frame.exit_long[start:],
                       frame.enter_short[start:], frame.exit_short[start:], frame.confidence[start:],
                       frame.stop_loss[start:], frame.take_profit[start:], frame.reasons[start:],
                       frame.reason_names)


def compiled_functions() -> tuple[object, ...]:
    """Return the numba functions a compiled run calls (``runtime.numba_cache.preload`` loads them ahead)."""
    from trader.core.backtest import compiled, compiled_records

    return (compiled._loop, compiled_records._curve)


def run_backtest(  # noqa: PLR0913 - the one call behind every front end
        strategy: Strategy, candles: Mapping[Symbol, CandleFrame], settings: BacktestSettings, *,
                 markets: Mapping[Symbol, MarketSpec] | None = None,
                 detail: Mapping[Symbol, CandleFrame] | None = None,
                 trade_from_ms: int | None = None, progress: Progress | None = None,
                 engine_path: bool = False, compiled: bool = True) -> BacktestResult:
    """Backtest ``strategy`` on ``candles`` (one frame per pair, same timeframe) and return the result.

    ``markets`` default to ``markets.default_market`` per pair; ``detail`` holds lower-timeframe
    candles used only to resolve candles that touch both the stop and the take-profit. Candles opening
    before ``trade_from_ms`` only warm the indicators up: no trade starts there. The compiled loop
    (``backtest.compiled``, unless ``compiled`` is False), else the Decimal fast path
    (``backtest.fast``) runs when it covers the configuration, unless ``engine_path``; the result's
    ``path`` says which ran (``compiled``, ``fast``, ``engine (why)``) and the assumptions' ``compiled
    loop`` entry why the compiled loop did not.
    """
    signals = compute_signals(strategy, candles)
    if trade_from_ms is not None:
        firsts = {s: int(np.searchsorted(frame.timestamp, trade_from_ms, side="left"))
                  for s, frame in candles.items()}
        candles = {s: frame.slice(firsts[s]) for s, frame in candles.items()}
        signals = {s: slice_signals(frame, firsts[s]) for s, frame in signals.items()}
    empty = [s for s, frame in candles.items() if len(frame) == 0]
    if not candles or empty:
        raise DataError(f"no candles for {', '.join(empty) or 'any pair'} in the requested period")
    specs = dict(markets) if markets is not None else {
        s: default_market(s, float(frame.close[0])) for s, frame in candles.items()}
    notes = assumptions(settings, bool(detail))
    changed = {k: v for k, v in strategy.params.items()
               if k in strategy.params_spec and v != strategy.params_spec[k].default}
    notes["parameters"] = ", ".join(f"{k}={v}" for k, v in sorted(changed.items())) or "defaults"
    if compiled and not engine_path:
        from trader.core.backtest import compiled as loop

        why = loop.why_not(candles, specs, settings, detail)
        if why is None:
            try:
                if len(candles) == 1:
                    (symbol, frame), = candles.items()
                    result = loop.run_compiled(signals[symbol], frame, symbol, specs[symbol], settings,
                                               strategy.params, {**notes, "simulation": "compiled"},
                                               (detail or {}).get(symbol))
                else:
                    from trader.core.backtest import compiled_pairs

                    result = compiled_pairs.run_pairs(signals, candles, specs, settings, strategy.params,
                                                      {**notes, "simulation": "compiled"}, detail)
            except fast.Fallback as exc:
                why = str(exc)
            else:
                if progress is not None:
                    progress(1.0)
                return result
        notes["compiled loop"] = f"not used: {why}"
    run, path = _simulate(signals, candles, specs, settings, detail, progress, engine_path)
    notes["simulation"] = path
    return build_result(run, settings, dict(strategy.params), notes, path)


def _simulate(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
              markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings,
              detail: Mapping[Symbol, CandleFrame] | None, progress: Progress | None,
              engine_path: bool) -> tuple[RunOutput, str]:
    """Return the run and the path that produced it: fast when it covers the run, else the engine's."""
    if engine_path:
        reason = "asked for"
    else:
        reason = fast.unsupported(candles, markets, settings, detail) or ""
        if not reason:
            try:
                run = fast.simulate_fast(signals, candles, markets, settings) if len(candles) == 1 \
                    else fast_pairs.simulate_pairs(signals, candles, markets, settings)
            except fast.Fallback as exc:
                reason = str(exc)
            else:
                if progress is not None:
                    progress(1.0)
                return run, "fast"
    run = simulate(signals, candles, markets, settings, detail=detail, progress=progress)
    return run, f"engine ({reason})"
