"""Spearman rank correlation between budgets, with n and a bootstrap interval."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from hpo_kit.analysis.rank_correlation import (
    TABLE_COLUMNS,
    bootstrap_spearman_ci,
    configs_per_budget,
    plot_rank_correlation,
    rank_correlation_table,
)

matplotlib.use("Agg")


def table_from(losses: dict[float, dict[int, float]]) -> pd.DataFrame:
    """{budget: {config_id: loss}} -> results table."""
    return pd.DataFrame([{"config_id": c, "budget": b, "loss": loss}
                         for b, per in losses.items() for c, loss in per.items()])


def test_monotone_relation_gives_rho_one_and_reversed_gives_minus_one():
    x = np.random.default_rng(0).random(30)
    results = table_from({1: dict(enumerate(x)), 3: dict(enumerate(np.exp(5 * x))), 9: dict(enumerate(-x ** 3))})
    table = rank_correlation_table(results, n_bootstrap=200, seed=0)
    assert list(table.columns) == list(TABLE_COLUMNS)
    rho = {(r.budget_a, r.budget_b): r.rho for r in table.itertuples()}
    assert rho[(1, 3)] == pytest.approx(1.0) and rho[(1, 9)] == pytest.approx(-1.0)
    assert rho[(3, 9)] == pytest.approx(-1.0)
    row = table.iloc[0]
    assert row.ci_low == pytest.approx(1.0) and row.ci_high == pytest.approx(1.0)  # every resample is monotone
    assert (table["n"] == 30).all()


def test_n_counts_only_configurations_present_at_both_budgets():
    # successive halving: 9 configs at budget 1, the best 3 at budget 3, the best 1 at budget 9
    rng = np.random.default_rng(1)
    low = dict(enumerate(rng.random(9)))
    survivors = sorted(low, key=low.get)[:3]
    results = table_from({1: low, 3: {c: low[c] * 0.5 for c in survivors}, 9: {survivors[0]: 0.01}})
    results.loc[len(results)] = {"config_id": 42, "budget": 3, "loss": 0.3}  # only at budget 3
    results.loc[len(results)] = {"config_id": survivors[1], "budget": 9, "loss": float("nan")}  # failed
    table = rank_correlation_table(results, n_bootstrap=100, seed=0).set_index(["budget_a", "budget_b"])
    assert table.loc[(1, 3), "n"] == 3 and table.loc[(1, 3), "rho"] == pytest.approx(1.0)
    assert table.loc[(1, 9), "n"] == 1 and math.isnan(table.loc[(1, 9), "rho"])  # too few for a rho
    assert table.loc[(3, 9), "n"] == 1
    counts = configs_per_budget(results)
    assert counts.to_dict() == {1: 9, 3: 4, 9: 1}


def test_repeated_evaluations_are_averaged():
    results = table_from({1: {0: 1.0, 1: 2.0, 2: 3.0}, 2: {0: 1.0, 1: 2.0, 2: 3.0}})
    # config 0 evaluated again at budget 2 with a large loss: the mean 4.0 moves it to last place
    results.loc[len(results)] = {"config_id": 0, "budget": 2, "loss": 7.0}
    row = rank_correlation_table(results, n_bootstrap=50).iloc[0]
    assert row.n == 3 and row.rho == pytest.approx(-0.5)


def test_bootstrap_interval_covers_the_true_rho_of_correlated_samples():
    """Bivariate normal with correlation r has Spearman rho = (6 / pi) arcsin(r / 2)."""
    r = 0.6
    true_rho = 6 / math.pi * math.asin(r / 2)
    rng = np.random.default_rng(2)
    cov = [[1, r], [r, 1]]
    covered, widths = 0, []
    n_replicates = 60
    for k in range(n_replicates):
        a, b = rng.multivariate_normal([0, 0], cov, size=80).T
        low, high = bootstrap_spearman_ci(a, b, n_bootstrap=400, ci=0.95, seed=k)
        covered += low <= true_rho <= high
        widths.append(high - low)
    assert covered / n_replicates >= 0.85  # nominal 95 %; percentile intervals run a little narrow
    assert 0.1 < np.mean(widths) < 0.5  # ~ 4 standard errors of rho at n = 80


def test_bootstrap_is_seeded():
    rng = np.random.default_rng(3)
    a, b = rng.random(40), rng.random(40)
    assert bootstrap_spearman_ci(a, b, seed=5) == bootstrap_spearman_ci(a, b, seed=5)
    assert bootstrap_spearman_ci(a, b, seed=5) != bootstrap_spearman_ci(a, b, seed=6)
    results = table_from({1: dict(enumerate(a)), 2: dict(enumerate(b))})
    pd.testing.assert_frame_equal(rank_correlation_table(results, seed=1), rank_correlation_table(results, seed=1))


def test_constant_losses_give_nan_not_an_error():
    results = table_from({1: {i: 0.5 for i in range(10)}, 2: {i: float(i) for i in range(10)}})
    row = rank_correlation_table(results, n_bootstrap=50).iloc[0]
    assert row.n == 10 and math.isnan(row.rho) and math.isnan(row.ci_low)


@pytest.mark.parametrize("kwargs, match", [
    ({"config_col": "trial"}, "no column 'trial'"),
    ({"n_bootstrap": 0}, "n_bootstrap"),
    ({"seed": -2}, "seed"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    results = table_from({1: {0: 1.0, 1: 2.0}, 2: {0: 1.0, 1: 2.0}})
    with pytest.raises(ValueError, match=match):
        rank_correlation_table(results, **kwargs)
    with pytest.raises(ValueError, match="ci"):
        bootstrap_spearman_ci([1, 2, 3], [1, 2, 3], ci=95)


def test_plot_annotates_rho_n_and_interval():
    x = np.random.default_rng(4).random(20)
    results = table_from({1: dict(enumerate(x)), 3: dict(enumerate(x + 0.3 * np.sin(20 * x))), 9: {0: 1.0}})
    table = rank_correlation_table(results, n_bootstrap=100)
    fig = plot_rank_correlation(table, counts=configs_per_budget(results), title="survivors")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("ρ=") and "n=20" in t and "[" in t for t in texts)
    assert any(t.startswith("n/a") and "n=1" in t for t in texts)
    assert "n=20" in texts  # diagonal: configurations at budget 1
    with pytest.raises(ValueError, match="lacks columns"):
        plot_rank_correlation(table.drop(columns="ci_low"))
