"""Notebook 00's claims, calibrated: no effect -> rarely 'holds'; a plausible effect at the paper profile -> mostly 'holds'."""
import numpy as np
import pandas as pd
import pytest

from hpo_kit.claims import HOLDS, UNMEASURED
from hpo_kit.quickstart.claims import longer_training_helps, random_beats_default

from calibration import assert_calibrated_null, assert_power, holds_rate, null_limit

PAPER_N_TEST = 10_000  # params/paper/00_quickstart.yaml
PAPER_N_CONFIGS = 64 + 1  # n_random plus the default


def correctness_pair(rng, n, error_default, error_pick, fixed=0.4):
    """Correct/incorrect per test image for two models that agree on most images (as two CNNs do).

    The pick gets right a share ``fixed`` of the default's mistakes and errs on just enough of the
    default's correct images to have ``error_pick`` overall.
    """
    breaks = (error_pick - error_default * (1 - fixed)) / (1 - error_default)
    default = rng.random(n) >= error_default
    flip = rng.random(n)
    pick = np.where(default, flip >= breaks, flip < fixed)
    return default, pick


def test_random_beats_default_null_and_planted():
    assert_calibrated_null(lambda rng: random_beats_default(*correctness_pair(rng, PAPER_N_TEST, 0.03, 0.03)))
    # planted: the pick has a 1-point lower test error (3 % vs 2 %)
    assert_power(lambda rng: random_beats_default(*correctness_pair(rng, PAPER_N_TEST, 0.03, 0.02)))


def test_choosing_on_validation_and_comparing_on_validation_is_biased_but_held_out_is_not():
    """The defect of the old notebook: best-of-8 chosen on the validation set, compared there too."""
    n_val, n_test, k = 2000, 2000, 8

    def trial(rng, compare_on):
        # eight configurations as good as the default: any difference is noise
        val = rng.random((k + 1, n_val)) >= 0.05
        test = rng.random((k + 1, n_test)) >= 0.05
        pick = 1 + int(np.argmax(val[1:].mean(axis=1)))
        data = val if compare_on == "validation" else test
        return random_beats_default(data[0], data[pick])

    biased, _ = holds_rate(lambda rng: trial(rng, "validation"), 200)
    assert biased > null_limit(0.05, 200)  # selection alone makes the old comparison "hold" too often
    assert_calibrated_null(lambda rng: trial(rng, "test"))


def test_random_beats_default_needs_matching_images():
    with pytest.raises(ValueError, match="same test images"):
        random_beats_default(np.ones(5, bool), np.ones(4, bool))
    row = random_beats_default(np.ones(50, bool), np.ones(50, bool))
    assert row.verdict == UNMEASURED  # below the claim's minimum of 100 test images


def curves(rng, n_configs, epochs, gain_points, sd_points=4.0):
    first = rng.uniform(0.05, 0.5, n_configs)
    last = first - (gain_points + rng.normal(0, sd_points, n_configs)) / 100
    rows = []
    for i, (a, b) in enumerate(zip(first, last)):
        for e in range(1, epochs + 1):
            rows.append({"config": f"c{i}", "epoch": e, "val_error": a + (b - a) * (e - 1) / (epochs - 1)})
    return pd.DataFrame(rows)


def test_longer_training_null_and_planted():
    assert_calibrated_null(lambda rng: longer_training_helps(curves(rng, PAPER_N_CONFIGS, 3, 0.0)))
    # planted: 2 points lower error after the last epoch on average, spread 4 points between configurations
    assert_power(lambda rng: longer_training_helps(curves(rng, PAPER_N_CONFIGS, 3, 2.0)))


def test_longer_training_needs_two_epochs():
    one_epoch = pd.DataFrame({"config": ["a", "b", "c"], "epoch": [1, 1, 1], "val_error": [0.1, 0.2, 0.3]})
    assert longer_training_helps(one_epoch).verdict == UNMEASURED
    clear = curves(np.random.default_rng(0), 10, 4, 10.0, sd_points=1.0)
    assert longer_training_helps(clear).verdict == HOLDS
