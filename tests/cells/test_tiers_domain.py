"""Scale tiers, N/P ratio and the nominal rating of multilayer stacks."""

from __future__ import annotations

import pytest

from assbtrack.domain.inputs import ModelInputError
from cells.tiers import StackLayer, np_ratio, scale_tier, stack_nominal


@pytest.mark.parametrize(
    ("capacity_ah", "tier"),
    [
        (0.005, "laboratory"),
        (0.0999, "laboratory"),
        (0.1, "pilot"),  # the paper's lab and pilot ranges overlap from 0.1 to 1 Ah: pilot takes it
        (0.5, "pilot"),
        (1.0, "pilot"),
        (10.0, "pilot"),
        (10.01, "production"),
        (60.0, "production"),
    ],
)
def test_scale_tier_boundaries(capacity_ah, tier):
    assert scale_tier(capacity_ah) == tier


@pytest.mark.parametrize("capacity_ah", [0, -1.0, float("nan"), "1 Ah", True])
def test_scale_tier_refuses_nonsense(capacity_ah):
    with pytest.raises(ModelInputError) as caught:
        scale_tier(capacity_ah)
    assert caught.value.field == "nominal_capacity_ah"


def test_np_ratio():
    assert np_ratio(3.6, 3.0) == pytest.approx(1.2)
    assert np_ratio(0.0, 3.0) == 0.0  # anode-free
    with pytest.raises(ModelInputError) as caught:
        np_ratio(3.0, 0.0)
    assert caught.value.field == "cathode_areal_capacity"
    with pytest.raises(ModelInputError) as caught:
        np_ratio(-1.0, 3.0)
    assert caught.value.field == "anode_areal_capacity"


def test_parallel_layers_add_capacity():
    nominal = stack_nominal([StackLayer(50.0, 3.7, "parallel") for _ in range(10)])
    assert nominal.capacity_mah == pytest.approx(500.0)
    assert nominal.voltage_v == pytest.approx(3.7)
    assert nominal.series_count == 1
    assert nominal.energy_mwh == pytest.approx(1850.0)
    assert scale_tier(nominal.capacity_ah) == "pilot"


def test_series_layers_add_voltage():
    nominal = stack_nominal([StackLayer(50.0, 3.7, "series") for _ in range(4)])
    assert nominal.capacity_mah == pytest.approx(50.0)
    assert nominal.voltage_v == pytest.approx(14.8)
    assert nominal.series_count == 4
    assert scale_tier(nominal.capacity_ah) == "laboratory"


def test_two_series_two_parallel_and_the_weakest_group_limits():
    layers = [
        StackLayer(60.0, 3.7, "parallel"),
        StackLayer(60.0, 3.7, "parallel"),
        StackLayer(40.0, 3.7, "series"),
        StackLayer(40.0, 3.7, "parallel"),
    ]
    nominal = stack_nominal(layers)
    assert nominal.voltage_v == pytest.approx(7.4)
    assert nominal.capacity_mah == pytest.approx(80.0)  # groups of 120 and 80 mAh in series
    assert nominal.series_count == 2


def test_stack_errors_name_the_layer():
    with pytest.raises(ModelInputError) as caught:
        stack_nominal([StackLayer(50.0, 3.7), StackLayer(50.0, 2.5, "parallel")])
    assert caught.value.field == "layers[1].voltage_v"
    with pytest.raises(ModelInputError) as caught:
        stack_nominal([StackLayer(50.0, 3.7), StackLayer(50.0, 3.7, "bipolar")])
    assert caught.value.field == "layers[1].connection"
    with pytest.raises(ModelInputError) as caught:
        stack_nominal([StackLayer(0.0, 3.7)])
    assert caught.value.field == "layers[0].capacity_mah"
    with pytest.raises(ModelInputError) as caught:
        stack_nominal([])
    assert caught.value.field == "layers"
