"""Search-space translation from declared Param specs, narrowing, and its refusals."""

from __future__ import annotations

import math

import pytest

from trader.core.errors import InputError
from trader.core.optimise.space import Choice, FloatRange, IntRange, dimension, search_space, size
from trader.core.strategies.base import Param
from trader.core.strategies.breakout import BreakoutStrategy

SPEC = {
    "lookback": Param(20, 2, 101, 3),
    "mult": Param(1.5, 0.1, 2.05, 0.1),
    "free": Param(0.5, 0.0, 1.0),
    "flag": Param(True),
    "mode": Param("a", choices=("a", "b", "c")),
    "label": Param("x"),
}


def test_each_param_kind_becomes_its_dimension_with_bounds_on_the_step_grid() -> None:
    assert dimension("lookback", SPEC["lookback"]) == IntRange("lookback", 2, 101, 3)  # 2 + 33*3 = 101
    mult = dimension("mult", SPEC["mult"])
    assert isinstance(mult, FloatRange) and mult.step == 0.1 and mult.high == 2.0  # exactly on the grid
    assert dimension("free", SPEC["free"]) == FloatRange("free", 0.0, 1.0, None)
    assert dimension("flag", SPEC["flag"]) == Choice("flag", (True, False))
    assert dimension("mode", SPEC["mode"]) == Choice("mode", ("a", "b", "c"))


def test_float_range_end_is_the_decimal_grid_point_the_sampler_accepts_without_warning() -> None:
    import warnings

    import optuna

    wide = dimension("ratio", Param(1.0, 0.1, 20.0, 0.1))
    assert isinstance(wide, FloatRange) and wide.high == 20.0  # not 0.1 + 199 * 0.1 = 20.000000000000004
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # optuna warns when high - low is not a multiple of step
        optuna.distributions.FloatDistribution(wide.low, wide.high, step=wide.step)


def test_int_range_ends_on_the_step_grid() -> None:
    assert dimension("n", Param(10, 10, 25, 4)) == IntRange("n", 10, 22, 4)


def test_a_param_without_range_or_choices_cannot_be_searched() -> None:
    with pytest.raises(InputError, match="label declares no range"):
        dimension("label", SPEC["label"])


def test_default_space_is_every_searchable_param_in_declaration_order() -> None:
    names = [d.name for d in search_space(SPEC)]
    assert names == ["lookback", "mult", "free", "flag", "mode"]


def test_named_params_and_overrides_narrow_the_space() -> None:
    dims = search_space(SPEC, ["flag"], {"lookback": "5:50:5", "mode": "b,c", "mult": "0.5:1.0"})
    by_name = {d.name: d for d in dims}
    assert list(by_name) == ["flag", "lookback", "mode", "mult"]
    assert by_name["lookback"] == IntRange("lookback", 5, 50, 5)
    assert by_name["mode"] == Choice("mode", ("b", "c"))
    assert by_name["mult"] == FloatRange("mult", 0.5, 1.0, 0.1)
    assert by_name["flag"] == Choice("flag", (True, False))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"lookback": "1:50"}, "need 2 <= low < high <= 101"),
    ({"lookback": "10:5"}, "need"),
    ({"lookback": "5:50:2.5"}, "integer parameter"),
    ({"lookback": "5"}, "LOW:HIGH"),
    ({"lookback": "a:b"}, "must be numbers"),
    ({"mode": "z"}, "not one of"),
    ({"nope": "1:2"}, "unknown parameter"),
])
def test_bad_overrides_are_clear_errors(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(Exception, match=message):
        search_space(SPEC, (), overrides)


def test_size_counts_grid_points_and_is_infinite_for_a_continuous_range() -> None:
    assert size([IntRange("a", 1, 10), Choice("b", (True, False)), FloatRange("c", 0.0, 1.0, 0.25)]) == 100
    assert math.isinf(size([FloatRange("c", 0.0, 1.0)]))


def test_builtin_strategy_defaults_lie_inside_their_search_space() -> None:
    for dim in search_space(BreakoutStrategy.params_spec):
        default = BreakoutStrategy.params_spec[dim.name].default
        if isinstance(dim, Choice):
            assert default in dim.choices
        else:
            assert isinstance(default, int | float) and dim.low <= default <= dim.high, dim
