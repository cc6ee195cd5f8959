"""TRL-HPO action decoding: every choice reachable, edge values 0 and 1, structural rules, both modes."""
from __future__ import annotations

import numpy as np
import pytest

from hpo_kit.train.networks import InvalidNetwork, check_network
from hpo_kit.trl_hpo.actions import (CHOICES, CONV_FILTERS, FC_UNITS, all_choices, choice_indices, decode_action,
                                     layer_from_indices, uniform_index)

CONV_PREV = [{"type": "conv", "filters": 8, "kernel": 3, "stride": 1, "padding": 0, "activation": "relu"}]
FC_PREV = CONV_PREV + [{"type": "fc", "units": 64, "bias": True, "activation": "relu", "dropout": 0.0}]
GRID = np.linspace(0.0, 1.0, 2001)


def values_reached(kind: str, position: int, mode: str, previous) -> set:
    a0 = {"conv": 0.1, "fc": 0.5, "pool": 0.9}[kind]
    name = CHOICES[kind][position - 1][0]
    found = set()
    for a in GRID:
        action = [a0, 0.5, 0.5, 0.5]
        action[position] = a
        found.add(decode_action(action, previous, mode)[name])
    return found


@pytest.mark.parametrize("kind,previous", [("conv", CONV_PREV), ("fc", CONV_PREV), ("pool", CONV_PREV)])
@pytest.mark.parametrize("position", [1, 2, 3])
def test_fixed_mode_reaches_every_choice(kind, previous, position):
    choices = CHOICES[kind][position - 1][1]
    assert values_reached(kind, position, "fixed", previous) == set(choices)


def test_fixed_mode_index_is_uniform_and_edges_are_ordinary():
    for n in (2, 3, 6, 7, 15, 62):
        counts = np.bincount([uniform_index(a, n) for a in (np.arange(100_000) + 0.5) / 100_000], minlength=n)
        assert counts.min() >= 100_000 // n - 1 and counts.max() <= 100_000 // n + 1
        assert uniform_index(0.0, n) == 0 and uniform_index(1.0, n) == n - 1


def test_faithful_last_choice_only_at_exactly_one():
    # conv kernel, fc units/bias/activation: int(a * (n - 1)) reaches the last choice only at 1.0
    assert decode_action([0.1, 0.5, 0.999, 0.5], CONV_PREV, "faithful")["kernel"] == 5
    assert decode_action([0.1, 0.5, 1.0, 0.5], CONV_PREV, "faithful")["kernel"] == 7
    assert decode_action([0.1, 0.5, 0.5, 1.0], CONV_PREV, "faithful")["stride"] == 3
    fc_almost = decode_action([0.5, 0.999, 0.999, 0.999], CONV_PREV, "faithful")
    fc_one = decode_action([0.5, 1.0, 1.0, 1.0], CONV_PREV, "faithful")
    assert (fc_almost["units"], fc_almost["bias"], fc_almost["activation"]) == (496, True, "gelu")
    assert (fc_one["units"], fc_one["bias"], fc_one["activation"]) == (504, False, "none")
    assert values_reached("fc", 2, "faithful", CONV_PREV) == {True, False}  # False only via a == 1.0


def test_faithful_pool_small_a_picks_the_last_choice():
    # The authors' int(a * n) - 1 (functions.py of TRL-HPO): any a < 1/n gives -1, the last choice.
    small = decode_action([0.9, 0.05, 0.05, 0.05], CONV_PREV, "faithful")
    assert (small["kernel"], small["stride"], small["padding"]) == (7, 3, 3)
    for a in (0.0, 1.0):
        edge = decode_action([0.9, a, a, a], CONV_PREV, "faithful")
        assert (edge["kernel"], edge["stride"], edge["padding"]) == (7, 3, 3)
    # choice k < n - 1 owns [(k + 1)/n, (k + 2)/n): just above 1/n is the first choice
    just_above = decode_action([0.9, 1 / 6 + 1e-9, 1 / 3 + 1e-9, 1 / 4 + 1e-9], CONV_PREV, "faithful")
    assert (just_above["kernel"], just_above["stride"], just_above["padding"]) == (2, 1, 0)
    assert decode_action([0.9, 0.3, 0.6, 0.45], CONV_PREV, "faithful")["kernel"] == 2
    # every choice gets a 1/n share (the last one also the point 1.0): no choice is favoured
    kernels = [decode_action([0.9, a, 0.5, 0.5], CONV_PREV, "faithful")["kernel"] for a in GRID[1:-1]]
    counts = [kernels.count(k) for k in (2, 3, 4, 5, 6, 7)]
    assert max(counts) - min(counts) <= 2, counts


def test_faithful_conv_filters_grow_and_first_conv_never_has_8():
    first = values_reached("conv", 1, "faithful", [])
    assert 8 not in first and first == set(CONV_FILTERS[1:])
    after_64 = [{"type": "conv", "filters": 64, "kernel": 3, "stride": 1, "padding": 0, "activation": "none"}]
    assert min(values_reached("conv", 1, "faithful", after_64)) == 72
    after_pool = after_64 + [{"type": "pool", "kernel": 2, "stride": 2, "padding": 0}]
    assert min(values_reached("conv", 1, "faithful", after_pool)) == 72


def test_faithful_fc_after_fc_not_wider_except_at_one():
    units = values_reached("fc", 1, "faithful", FC_PREV)
    assert max(units) == 72 and 72 in units  # 72 only via a == 1.0
    assert max(u for u in units if u != 72) == 64
    assert decode_action([0.5, 0.999, 0.5, 0.5], FC_PREV, "faithful")["units"] == 64


def test_structural_rules_in_both_modes():
    for mode in ("fixed", "faithful"):
        assert decode_action([0.9, 0.5, 0.5, 0.5], [], mode)["type"] == "conv"  # first layer: conv
        assert decode_action([0.1, 0.5, 0.5, 0.5], FC_PREV, mode)["type"] == "fc"  # after fc: fc
        assert decode_action([0.9, 0.5, 0.5, 0.5], FC_PREV, mode)["type"] == "fc"
        assert decode_action([0.329, 0.5, 0.5, 0.5], CONV_PREV, mode)["type"] == "conv"
        assert decode_action([0.33, 0.5, 0.5, 0.5], CONV_PREV, mode)["type"] == "fc"
        assert decode_action([0.67, 0.5, 0.5, 0.5], CONV_PREV, mode)["type"] == "pool"
    assert decode_action([0.1, 0.5, 0.5, 0.5], [], "faithful")["activation"] == "none"
    assert decode_action([0.1, 0.5, 0.5, 0.5], [], "fixed")["activation"] == "relu"


def test_bad_actions_and_modes_are_rejected():
    with pytest.raises(ValueError, match="action must be 4 finite numbers"):
        decode_action([0.1, 0.5, 1.2, 0.5], [], "fixed")
    with pytest.raises(ValueError, match="action must be 4"):
        decode_action([0.1, 0.5, 0.5], [], "fixed")
    with pytest.raises(ValueError, match="mode must be one of"):
        decode_action([0.1, 0.5, 0.5, 0.5], [], "original")
    with pytest.raises(ValueError, match="index must be in"):
        layer_from_indices("conv", (15, 0, 0))


def test_every_discrete_choice_builds_a_layer_dict_the_trainer_accepts():
    for kind in ("conv", "fc", "pool"):
        for idx in all_choices(kind)[:: 7]:
            layer = layer_from_indices(kind, idx)
            prefix = [] if kind == "conv" else [layer_from_indices("conv", (0, 0, 0))]
            if kind == "pool" and layer["padding"] > layer["kernel"] // 2:
                with pytest.raises(InvalidNetwork):  # torch forbids it; the environment rejects it untrained
                    check_network(prefix + [layer])
            else:
                check_network(prefix + [layer])
    assert len(all_choices("conv")) == 135 and len(all_choices("fc")) == 868 and len(all_choices("pool")) == 72
    assert FC_UNITS[0] == 16 and FC_UNITS[-1] == 504 and len(FC_UNITS) == 62


def test_choice_indices_report_negative_wrap_in_faithful_mode():
    kind, idx = choice_indices([0.9, 0.0, 0.5, 0.5], CONV_PREV, "faithful")
    assert kind == "pool" and idx[0] == -1


def test_faithful_mode_reaches_every_choice_through_the_edge_values():
    # With 0.0 and 1.0 in the grid (clipped exploration noise produces them), every fc and pool
    # choice and every conv kernel/stride is reachable; only the filters rule excludes 8.
    for kind in ("fc", "pool"):
        for position in (1, 2, 3):
            assert values_reached(kind, position, "faithful", CONV_PREV) == set(CHOICES[kind][position - 1][1])
    for position in (2, 3):
        assert values_reached("conv", position, "faithful", CONV_PREV) == set(CHOICES["conv"][position - 1][1])
