"""fANOVA through the compatibility adapter, checked against closed-form variance decompositions."""
from __future__ import annotations

import logging

import matplotlib
import numpy as np
import pandas as pd
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

from hpo_kit.analysis.fanova_compat import fanova_importances, fit_fanova, marginal_curve
from hpo_kit.analysis.importance import (
    importance_per_budget,
    plot_importance_per_budget,
    space_to_fanova_inputs,
)

matplotlib.use("Agg")


def anova_function(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """f = a g(x1) + b h(x2) + c g(x1) h(x2) on U[0, 1]^3, with g, h centred (x3 is irrelevant).

    g(x) = x - 1/2 has variance 1/12; h(x) = x^2 - 1/3 has mean 0 and variance 1/5 - 1/9 = 4/45.
    The three terms are orthogonal, so their variances a^2/12, b^2 4/45 and c^2 (1/12)(4/45) are the
    exact fANOVA components.
    """
    a, b, c = 1.0, 2.0, 6.0
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    g, h = X[:, 0] - 0.5, X[:, 1] ** 2 - 1 / 3
    parts = {"x1": a**2 / 12, "x2": b**2 * 4 / 45, "x1 × x2": c**2 * (1 / 12) * (4 / 45)}
    total = sum(parts.values())
    return X, a * g + b * h + c * g * h, {k: v / total for k, v in parts.items()} | {"x3": 0.0}


def as_dict(table: pd.DataFrame) -> dict[str, float]:
    return dict(zip(table["term"], table["importance"]))


def test_first_order_importances_match_the_closed_form():
    X, y, truth = anova_function(2000, seed=0)
    table = fanova_importances(X, y, ["x1", "x2", "x3"], [False] * 3, bounds=[(0, 1)] * 3,
                               n_trees=16, seed=0, pairs=0, min_samples_leaf=3)
    got = as_dict(table)
    assert list(table["order"]) == [1, 1, 1] and list(table["term"]) == ["x2", "x1", "x3"]  # sorted
    for name in ("x1", "x2", "x3"):
        assert got[name] == pytest.approx(truth[name], abs=0.05), name
    assert (table["std"] >= 0).all() and (table["std"] < 0.05).all()


def test_pairwise_interaction_is_found_and_ranked_first():
    X, y, truth = anova_function(600, seed=1)
    table = fanova_importances(X, y, ["x1", "x2", "x3"], [False] * 3, bounds=[(0, 1)] * 3,
                               n_trees=8, seed=0, pairs=2, min_samples_leaf=5)
    pairs = table[table["order"] == 2]
    assert len(pairs) == 2 and pairs.iloc[0]["term"] == "x1 × x2"
    assert pairs.iloc[0]["importance"] == pytest.approx(truth["x1 × x2"], abs=0.1)
    assert pairs.iloc[1]["importance"] < 0.05  # pairs with the irrelevant x3
    row = pairs.iloc[0]
    assert row["total_importance"] == pytest.approx(truth["x1"] + truth["x2"] + truth["x1 × x2"], abs=0.05)


def test_log_scaled_hyperparameter_gets_its_importance_on_the_log_scale():
    """f = log10(x1) + 4 x2 with x1 log-uniform on [1e-4, 1]: on the log scale both explain half."""
    rng = np.random.default_rng(2)
    n = 1000
    x1, x2 = 10 ** rng.uniform(-4, 0, n), rng.random(n)
    X, y = np.c_[x1, x2], np.log10(x1) + 4 * x2
    kwargs = dict(bounds=[(1e-4, 1), (0, 1)], n_trees=16, seed=0, pairs=0)
    on_log = as_dict(fanova_importances(X, y, ["x1", "x2"], [True, False], **kwargs))
    assert on_log["x1"] == pytest.approx(0.5, abs=0.05) and on_log["x2"] == pytest.approx(0.5, abs=0.05)
    # Measured over the raw range, x1 looks unimportant: almost all of [1e-4, 1] is where log10 is flat.
    on_raw = as_dict(fanova_importances(X, y, ["x1", "x2"], [False, False], **kwargs))
    assert on_raw["x1"] < 0.3


def test_marginal_curve_follows_the_function_in_raw_units():
    rng = np.random.default_rng(3)
    x1, x2 = 10 ** rng.uniform(-3, 0, 800), rng.random(800)
    model = fit_fanova(np.c_[x1, x2], np.log10(x1) + x2, ["lr", "m"], [True, False],
                       bounds=[(1e-3, 1), (0, 1)], n_trees=8, seed=0)
    curve = marginal_curve(model, "lr", n_points=7)
    assert list(curve.columns) == ["value", "mean", "std"]
    np.testing.assert_allclose(curve["value"], np.logspace(-3, 0, 7))  # evenly spaced on the log scale
    expected = np.log10(curve["value"]) + 0.5  # E[x2] = 0.5
    assert np.max(np.abs(curve["mean"] - expected)) < 0.3
    assert np.all(np.diff(curve["mean"]) > 0)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        marginal_curve(model, "momentum")


def test_fanova_is_deterministic_and_leaves_numpy_and_logging_alone():
    import fanova.fanova as fanova_module

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    X, y, _ = anova_function(300, seed=4)
    a = fanova_importances(X, y, ["x1", "x2", "x3"], [False] * 3, n_trees=4, seed=7, pairs=1, min_samples_leaf=5)
    b = fanova_importances(X, y, ["x1", "x2", "x3"], [False] * 3, n_trees=4, seed=7, pairs=1, min_samples_leaf=5)
    pd.testing.assert_frame_equal(a, b)
    assert not hasattr(np, "float")  # the np.float shim never touches numpy itself
    assert fanova_module.np is np and fanova_module.logging is logging  # fanova's module is restored
    assert root.handlers == handlers and root.level == level  # fanova's basicConfig had no effect


def test_categorical_columns_and_imputed_inactive_values():
    rng = np.random.default_rng(5)
    n = 600
    choice = rng.integers(0, 3, n).astype(float)
    x = rng.random(n)
    x[choice == 2] = np.nan  # x is inactive for choice 2
    y = np.array([0.0, 1.0, 5.0])[choice.astype(int)] + 0.1 * np.nan_to_num(x, nan=0.0)
    table = fanova_importances(np.c_[choice, x], y, ["kind", "x"], [False, False], categories=[3, 0],
                               impute_values=[0, 0.5], bounds=[(0, 2), (0, 1)], n_trees=16, seed=0, pairs=0)
    assert as_dict(table)["kind"] > 0.8 and as_dict(table)["x"] < 0.1


@pytest.mark.parametrize("kwargs, match", [
    ({"names": ["a"]}, "one name per column"),
    ({"names": ["a", "a"]}, "unique"),
    ({"log_mask": [True]}, "log_mask"),
    ({"y": np.ones(50)}, "constant"),
    ({"y": np.r_[np.nan, np.arange(49.0)]}, "finite"),
    ({"X": np.c_[np.r_[np.nan, np.ones(49)], np.arange(50.0)]}, "impute_values"),
    ({"log_mask": [True, False], "X": np.c_[np.arange(50.0), np.arange(50.0)]}, "must be > 0"),
    ({"bounds": [(0, 10), (0, 10)]}, "outside its bounds"),
    ({"n_trees": 0}, "n_trees"),
    ({"pairs": -1}, "pairs"),
])
def test_bad_inputs_raise_clear_errors(kwargs, match):
    args = {"X": np.c_[np.arange(50.0), np.arange(50.0) % 7], "y": np.arange(50.0), "names": ["a", "b"],
            "log_mask": [False, False], "n_trees": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        fanova_importances(args.pop("X"), args.pop("y"), args.pop("names"), args.pop("log_mask"), **args)


# --------------------------------------------------------------------------- per budget (importance.py)
def small_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(Float("lr", (1e-4, 1.0), log=True), Integer("units", (1, 64), log=True),
              Categorical("act", ["relu", "tanh"]))
    return space


def test_space_encoding_uses_space_bounds_log_flags_and_choice_indices():
    inputs = space_to_fanova_inputs([{"lr": 0.01, "units": 8, "act": "tanh"}], small_space())
    i = {name: k for k, name in enumerate(inputs.names)}
    assert inputs.X[0, i["lr"]] == 0.01 and inputs.X[0, i["units"]] == 8 and inputs.X[0, i["act"]] == 1
    assert inputs.log_mask[i["lr"]] and inputs.log_mask[i["units"]] and not inputs.log_mask[i["act"]]
    assert inputs.bounds[i["lr"]] == (1e-4, 1.0) and inputs.categories[i["act"]] == 2
    with pytest.raises(ValueError, match="lacks"):
        space_to_fanova_inputs([{"lr": 0.01, "depth": 3}], small_space())


def test_importance_per_budget_follows_what_matters_at_each_budget():
    """At budget 1 only the activation matters, at budget 9 only the learning rate."""
    space = small_space()
    configs = [dict(c) for c in space.sample_configuration(120)]
    rows = []
    for cid, c in enumerate(configs):
        rows.append({"config_id": cid, "budget": 1, "loss": float(c["act"] == "tanh") , **c})
        rows.append({"config_id": cid, "budget": 9, "loss": abs(np.log10(c["lr"]) + 2), **c})
    rows += [{"config_id": 999, "budget": 27, "loss": 0.1, **configs[0]}]  # too few configurations
    results = pd.DataFrame(rows)
    table = importance_per_budget(results, space, n_trees=8, seed=0, pairs=1, min_configs=10)
    assert sorted(table["budget"].unique()) == [1, 9] and set(table["n_configs"]) == {120}
    top = table[table["order"] == 1].sort_values("importance").groupby("budget").last()["term"]
    assert top[1] == "act" and top[9] == "lr"
    fig = plot_importance_per_budget(table)
    assert fig.axes
    # configurations may also come as dicts in one column
    packed = pd.DataFrame({"budget": results["budget"], "loss": results["loss"],
                           "config": results[["lr", "units", "act"]].to_dict("records")})
    again = importance_per_budget(packed, space, config_col="config", n_trees=8, seed=0, pairs=1, min_configs=10)
    pd.testing.assert_frame_equal(table, again)
    with pytest.raises(ValueError, match="no budget has 500"):
        importance_per_budget(results, space, min_configs=500)
