"""The ``spc`` model against charts worked out by hand, one per Western Electric rule, and its refusals."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.spc import run_spc

# A baseline whose consecutive values differ by exactly 1.128: the moving-range σ is 1.128 / 1.128 = 1,
# the centre (10 + 11.128) / 2 = 10.564, so a value of centre + k lies k σ away.
CENTER = 10.564
UP_FIRST = [10.0, 11.128] * 4  # ends on the upper side (index 7 at z = +0.564)
DOWN_LAST = [11.128, 10.0] * 4  # ends on the lower side (index 7 at z = −0.564)


def spc(values, **extra):
    return run_spc({"values": values, "baseline_count": 8, **extra})


def pairs(result):
    return [(v["index"], v["rule"]) for v in result["violations"]]


def test_limits_from_the_moving_range_of_the_baseline():
    result = spc(UP_FIRST + [CENTER])
    assert result["center"] == pytest.approx(CENTER)
    assert result["sigma"] == pytest.approx(1.0)
    assert result["ucl"] == pytest.approx(CENTER + 3.0)
    assert result["lcl"] == pytest.approx(CENTER - 3.0)
    assert pairs(result) == []


def test_baseline_defaults_to_every_value():
    # 0, 2, 0, 2, 0, 2, 0, 8: mean 14/8 = 1.75; moving ranges 2,2,2,2,2,2,8 → mean 20/7; σ = 20/7/1.128
    values = [0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 8.0]
    result = run_spc({"values": values})
    assert result["center"] == pytest.approx(1.75)
    assert result["sigma"] == pytest.approx(20 / 7 / 1.128)
    # z(8) = 6.25 / 2.533 = 2.47: beyond 2 but alone, and not beyond 3
    assert pairs(result) == []


def test_we1_one_point_beyond_three_sigma_either_side():
    result = spc(UP_FIRST + [CENTER + 3.5, CENTER, CENTER - 3.2])
    assert pairs(result) == [(8, "we1"), (10, "we1")]


def test_a_point_at_exactly_three_sigma_is_not_beyond():
    assert pairs(spc(UP_FIRST + [CENTER + 2.999])) == []


def test_we2_two_of_three_beyond_two_sigma_on_one_side():
    # z = 2.5, 0.5, 2.5: the third point completes 2 of 3 beyond +2; its window 6..10 holds only
    # two points beyond 1 (we3 needs four), and the run 3..10 changes side (no we4)
    result = spc(UP_FIRST + [CENTER + 2.5, CENTER + 0.5, CENTER + 2.5])
    assert pairs(result) == [(10, "we2")]


def test_we2_needs_both_points_on_the_same_side():
    assert pairs(spc(UP_FIRST + [CENTER + 2.5, CENTER - 2.5, CENTER + 0.1])) == []


def test_we3_four_of_five_beyond_one_sigma_on_one_side():
    # z = 1.5, 1.5, 0.5, 1.5, 1.5 at 8..12: at 11 the window 7..11 has 3 beyond 1, at 12 it has 4
    result = spc(UP_FIRST + [CENTER + 1.5, CENTER + 1.5, CENTER + 0.5, CENTER + 1.5, CENTER + 1.5])
    assert pairs(result) == [(12, "we3")]


def test_we3_below_the_centre():
    result = spc(UP_FIRST + [CENTER - 1.5] * 4)
    # at 11 the window 7..11 holds 4 points below −1; index 11 is also the fourth of them
    assert pairs(result) == [(11, "we3")]


def test_we4_eight_in_a_row_on_one_side():
    # the baseline ends below the centre, so the run of eight +0.5 (8..15) completes at 15 only
    result = spc(DOWN_LAST + [CENTER + 0.5] * 8)
    assert pairs(result) == [(15, "we4")]


def test_we4_counts_baseline_points_on_the_same_side():
    # index 7 is already above the centre: the run 7..14 completes at 14, then 8..15 at 15
    result = spc(UP_FIRST + [CENTER + 0.5] * 8)
    assert pairs(result) == [(14, "we4"), (15, "we4")]


def test_one_point_can_break_several_rules_each_listed_once_in_rule_order():
    # z = 2.5, 2.5, 3.5, 1.5 after a baseline ending below: at 10, we1 (3.5), we2 (3 of 3 beyond 2)
    # and not we3 (window 6..10: only 3 beyond 1); at 11 we3 (4 of 5: 8, 9, 10, 11)
    result = spc(DOWN_LAST + [CENTER + 2.5, CENTER + 2.5, CENTER + 3.5, CENTER + 1.5])
    assert pairs(result) == [(9, "we2"), (10, "we1"), (10, "we2"), (11, "we3")]


def test_rules_choose_which_are_judged():
    values = DOWN_LAST + [CENTER + 2.5, CENTER + 2.5, CENTER + 3.5, CENTER + 1.5]
    assert pairs(spc(values, rules=["we1"])) == [(10, "we1")]
    assert pairs(spc(values, rules=["we3", "we2"])) == [(9, "we2"), (10, "we2"), (11, "we3")]


def test_baseline_sets_limits_later_points_do_not():
    # a shifted tail widens nothing: it is judged against the first eight
    result = spc(UP_FIRST + [CENTER + 10.0] * 3)
    assert result["sigma"] == pytest.approx(1.0)
    assert (8, "we1") in pairs(result)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"values": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0]}, "values"),  # fewer than 8
        ({"values": UP_FIRST + [CENTER], "baseline_count": 7}, "baseline_count"),
        ({"values": UP_FIRST, "baseline_count": 9}, "baseline_count"),
        ({"values": [5.0] * 10}, "values"),  # σ = 0
        ({"values": [5.0] * 8 + [6.0, 7.0], "baseline_count": 8}, "baseline_count"),  # baseline σ = 0
        ({"values": UP_FIRST, "rules": ["we5"]}, "rules[0]"),
        ({"values": UP_FIRST, "rules": []}, "rules"),
        ({"values": UP_FIRST[:7] + ["x"]}, "values[7]"),
        ({"values": UP_FIRST, "baseline": 8}, "baseline"),  # unknown key
        ({"values": UP_FIRST, "baseline_count": 8.5}, "baseline_count"),
    ],
)
def test_bad_input_names_the_field(data, field):
    with pytest.raises(ModelInputError) as caught:
        run_spc(data)
    assert caught.value.field == field


def test_run_model_spc_prints_json_and_exits_2_on_a_flat_baseline(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"values": UP_FIRST + [CENTER + 3.5], "baseline_count": 8}))
    out = StringIO()
    call_command("run_model", "spc", "--input", str(good), stdout=out)
    assert json.loads(out.getvalue())["violations"] == [{"index": 8, "rule": "we1"}]

    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"values": [3.0] * 12}))
    with pytest.raises(CommandError) as caught:
        call_command("run_model", "spc", "--input", str(flat), stdout=StringIO())
    assert caught.value.returncode == 2
    assert "values" in str(caught.value)
