"""Notebook 03's experiments: equal budgets, the two-stage baseline, the tables behind the analyses."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from hpo_kit.analysis import (importance_change, marginal_curves, neighbour_and_far, plot_marginal_curves,
                              rank_correlation_table)
from hpo_kit.analysis.fanova_compat import fit_fanova
from hpo_kit.nas import joint_space
from hpo_kit.nas import experiments as ex
from hpo_kit.nas.joint_space import ARCHITECTURE_NAMES, HYPERPARAMETER_NAMES, TRAINING_NAMES
from hpo_kit.nas.objective import JointSpaceObjective
from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.trial import trial_seed

matplotlib.use("Agg")


def tiny_splits(n_train: int, n_val: int, n_test: int, seed: int):
    return synthetic_splits(n_train, n_val, n_test, seed, input_shape=(1, 8, 8), noise=1.0)


def tiny_objective(**changes) -> JointSpaceObjective:
    settings = dict(scale="smoke", n_train=48, n_val=24, n_test=24, min_resource=1, max_resource=3,
                    splits_factory=tiny_splits)
    return JointSpaceObjective(**{**settings, **changes})


SEARCH = dict(eta=3, kde_min_points=4, backend="sequential", n_workers=1, progress=False)


def test_budgets_and_the_epochs_of_a_hyperband_iteration():
    assert ex.rung_budgets(1, 9, 3) == [1, 3, 9]
    assert ex.rung_budgets(4, 108, 3) == [4, 12, 36, 108]
    # R=9, eta=3: 9@1 -> 3@3 -> 1@9 | 5@3 -> 1@9 | 3@9, paused trials continued
    assert ex.iteration_resource(1, 9, 3) == (9 * 1 + 3 * 2 + 1 * 6) + (5 * 3 + 1 * 6) + 3 * 9
    assert ex.iteration_resource(1, 3, 3) == (3 * 1 + 1 * 2) + 2 * 3
    assert ex.random_search_trials(1, 9, 3, n_iterations=2) == 138 // 9
    assert ex.random_search_trials(1, 1, 3, n_iterations=1) == 1


def test_sub_space_keeps_ranges_and_rejects_unknown_names():
    joint = joint_space("workshop")
    part = ex.sub_space(joint, TRAINING_NAMES)
    assert sorted(part) == sorted(TRAINING_NAMES)
    assert part["learning_rate"] == joint["learning_rate"]
    with pytest.raises(ValueError, match="unknown"):
        ex.sub_space(joint, ["learning_rate", "dropout"])
    with pytest.raises(ValueError, match="non-empty"):
        ex.sub_space(joint, [])


def test_methods_get_equal_epochs_and_runs_resume_from_their_logs(tmp_path):
    objective = tiny_objective()
    runs = ex.compare_methods(objective, ["bohb", "hyperband", "random"], [0], tmp_path, n_iterations=1, **SEARCH)
    table = ex.final_table(runs).set_index("method")
    hb_epochs = ex.iteration_resource(1, 3, 3)
    assert table.loc["bohb", "total_epochs"] == table.loc["hyperband", "total_epochs"] == hb_epochs
    assert table.loc["random", "total_epochs"] == 3 * (hb_epochs // 3)
    assert table["val_error"].between(0, 1).all() and table["test_error"].between(0, 1).all()
    assert not (tmp_path / "bohb" / "seed_0" / "checkpoints").exists()  # removed after a finished run
    best = ex.incumbent(runs[("bohb", 0)])
    assert best["budget"] == 3 and set(best["config"]) == set(HYPERPARAMETER_NAMES)

    again = ex.run_search("bohb", objective, tmp_path / "bohb" / "seed_0", 0, n_iterations=1, **SEARCH)
    assert again.n_replayed == again.n_evaluations > 0 and again.best_loss == runs[("bohb", 0)].best_loss
    other = ex.run_search("bohb", tiny_objective(n_val=20), tmp_path / "bohb" / "seed_0", 0, n_iterations=1, **SEARCH)
    assert other.n_replayed == 0  # other settings: the logged run is not reused


def test_separate_search_tunes_architecture_then_training_at_the_same_budget(tmp_path):
    result = ex.separate_search(tiny_objective(), tmp_path, 0, n_iterations=2, **SEARCH)
    arch_configs = result.architecture.results.filter(like="config_").columns
    train_configs = result.training.results.filter(like="config_").columns
    assert sorted(c.removeprefix("config_") for c in arch_configs) == sorted(ARCHITECTURE_NAMES)
    assert sorted(c.removeprefix("config_") for c in train_configs) == sorted(TRAINING_NAMES)
    assert result.total_epochs == 2 * ex.iteration_resource(1, 3, 3)
    assert set(result.best_config) == set(HYPERPARAMETER_NAMES)
    arch_best, train_best = ex.incumbent(result.architecture), ex.incumbent(result.training)
    assert all(result.best_config[n] == arch_best["config"][n] for n in ARCHITECTURE_NAMES)
    # the final incumbent is the better stage's, with the test error measured with it
    chosen = arch_best if result.stage == "architecture" else train_best
    assert result.val_error == min(arch_best["val_error"], train_best["val_error"]) == chosen["val_error"]
    assert result.test_error == chosen["test_error"] and 0 <= result.test_error <= 1
    if result.stage == "architecture":
        assert all(result.best_config[n] == ex.STANDARD_TRAINING[n] for n in TRAINING_NAMES)
    assert ex.separate_table({0: result})["stage"].tolist() == [result.stage]
    with pytest.raises(ValueError, match="n_iterations must be an integer >= 2"):
        ex.separate_search(tiny_objective(), tmp_path, 0, n_iterations=1, **SEARCH)
    with pytest.raises(ValueError, match="standard_training must set exactly"):
        ex.separate_search(tiny_objective(), tmp_path, 0, n_iterations=2, standard_training={"learning_rate": 0.1})


def test_random_sample_gives_the_loss_a_scheduler_would_see_at_every_budget(tmp_path):
    objective = tiny_objective()
    sample = ex.random_sample_at_budgets(objective, 4, 7, tmp_path, [1, 3], backend="sequential", progress=False)
    assert len(sample) == 8 and sorted(sample["budget"].unique()) == [1, 3]
    assert set(HYPERPARAMETER_NAMES) <= set(sample.columns)
    assert sample.loc[sample["budget"] == 1, "test_error"].isna().all()
    row = sample[(sample["config_id"] == 2) & (sample["budget"] == 1)].iloc[0]
    config = {n: row[n] for n in HYPERPARAMETER_NAMES}
    # training the same configuration with the same seed for 1 epoch gives the loss read off the curve
    assert objective.evaluate(config, 1, trial_seed(7, 2)).loss == row["loss"]
    with pytest.raises(ValueError, match="budgets must be epochs"):
        ex.random_sample_at_budgets(objective, 4, 7, tmp_path, [1, 5])


def test_survivors_table_labels_runs_and_keeps_only_reached_budgets(tmp_path):
    runs = ex.compare_methods(tiny_objective(), ["hyperband"], [0, 1], tmp_path, n_iterations=1, **SEARCH)
    table = ex.survivors_table(runs)
    assert table["config_id"].str.match(r"hyperband-[01]:\d+$").all()
    per_budget = table.groupby("budget")["config_id"].nunique()
    assert per_budget[1] == 2 * 3 and per_budget[3] == 2 * (1 + 2)  # 3@1 -> 1@3, plus 2@3, per run
    assert set(HYPERPARAMETER_NAMES) <= set(table.columns)


def test_method_summary_uses_mean_and_standard_error_over_seeds():
    table = pd.DataFrame({"method": ["a", "b", "a", "b"], "seed": [0, 0, 1, 1], "val_error": [0.3, 0.2, 0.5, 0.2],
                          "test_error": [0.3, 0.2, float("nan"), 0.4]})
    summary = ex.method_summary(table).set_index("method")
    assert summary.loc["a", "val_error_mean"] == pytest.approx(0.4)
    assert summary.loc["a", "val_error_se"] == pytest.approx(0.1)
    assert summary.loc["a", "test_error_mean"] == pytest.approx(0.3) and math.isnan(summary.loc["a", "test_error_se"])
    assert summary.loc["b", "n_seeds"] == 2


def _best(val, budget=3):
    return {"val_error": val, "test_error": 1 - val, "budget": budget, "config": {}, "trial_id": 0}


def test_separate_search_keeps_the_better_of_its_two_stages():
    """Stage 2 searches training hyperparameters from scratch and may end worse than stage 1's
    incumbent (architecture with standard training): the search keeps stage 1's then."""
    assert ex.better_stage(_best(0.10), _best(0.20), 3) == "architecture"
    assert ex.better_stage(_best(0.20), _best(0.10), 3) == "training"
    assert ex.better_stage(_best(0.10), _best(0.10), 3) == "architecture"  # a tie keeps stage 1
    assert ex.better_stage(_best(0.10), _best(0.05, budget=1), 3) == "architecture"  # only the largest budget counts
    assert ex.better_stage(_best(0.10, budget=1), _best(0.30), 3) == "training"
    assert ex.better_stage(_best(float("nan"), budget=None), _best(0.30), 3) == "training"
    with pytest.raises(RuntimeError, match="neither stage"):
        ex.better_stage(_best(0.1, budget=1), _best(0.1, budget=1), 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "tpe"}, "method must be one of"),
    ({"n_iterations": 0}, "n_iterations must be an integer >= 1"),
    ({"kde_min_points": -1}, "kde_min_points"),
    ({"backend": "ray"}, "backend must be one of"),
])
def test_bad_search_arguments_are_rejected(tmp_path, kwargs, match):
    args = {"method": "bohb", "n_iterations": 1, **SEARCH, **kwargs}
    with pytest.raises(ValueError, match=match):
        ex.run_search(args.pop("method"), tiny_objective(), tmp_path, 0, **args)


# -- the analysis helpers the notebook uses ----------------------------------------------------------
def test_neighbour_and_far_compares_consecutive_budgets_with_the_extremes():
    table = pd.DataFrame({"budget_a": [1, 1, 3], "budget_b": [3, 9, 9], "rho": [0.8, 0.2, 0.6]})
    summary = neighbour_and_far(table)
    assert summary["neighbour_rho"] == pytest.approx(0.7) and summary["far_rho"] == 0.2
    assert summary["difference"] == pytest.approx(0.5) and summary["far_pair"] == (1, 9)
    two = neighbour_and_far(table[table["budget_b"] == 3])
    assert two["neighbour_rho"] == two["far_rho"] == 0.8 and math.isnan(two["difference"])  # nothing to compare
    rng = np.random.default_rng(0)
    quality = rng.normal(size=60)  # losses drift away from the first budget's ranking as budgets grow
    rows = [{"config_id": i, "budget": b, "loss": quality[i] * (1 - k / 3) + rng.normal() * k / 3 + k}
            for i in range(60) for k, b in enumerate([1, 3, 9])]
    real = neighbour_and_far(rank_correlation_table(pd.DataFrame(rows), n_bootstrap=50))
    assert real["difference"] > 0


def test_importance_change_and_marginal_curves_per_budget():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(120, 3))
    X[:, 2] = np.exp(rng.uniform(np.log(1e-3), 0, size=120))
    small = fit_fanova(X, X[:, 0] + 0.05 * rng.normal(size=120), ["a", "b", "lr"], [False, False, True],
                       bounds=[(0, 1), (0, 1), (1e-3, 1)], n_trees=8, seed=0)
    large = fit_fanova(X, X[:, 1] + 0.05 * rng.normal(size=120), ["a", "b", "lr"], [False, False, True],
                       bounds=[(0, 1), (0, 1), (1e-3, 1)], n_trees=8, seed=0)
    from hpo_kit.analysis import importance_table

    table = importance_table({1: small, 9: large}, pairs=1)
    change = importance_change(table)
    assert list(change["hyperparameter"][:2]) in (["a", "b"], ["b", "a"])
    top = change.set_index("hyperparameter")
    assert top.loc["a", "change"] < -0.5 and top.loc["b", "change"] > 0.5 and (change["tree_std"] >= 0).all()
    assert change.attrs == {"budget_from": 1, "budget_to": 9} and "se" not in change.columns
    with pytest.raises(ValueError, match="not a budget"):
        importance_change(table, budget_from=3)
    curves = marginal_curves({1: small, 9: large}, ["a", "lr"], n_points=5)
    assert len(curves) == 2 * 2 * 5 and curves.loc[curves["hyperparameter"] == "lr", "log_scale"].all()
    assert curves["value"].max() == pytest.approx(1.0)
    fig = plot_marginal_curves(curves)
    assert [ax.get_xscale() for ax in fig.axes if ax.get_visible()][:2] == ["linear", "log"]


def test_a_search_bar_names_its_run_and_knows_its_total(tmp_path, monkeypatch, capsys):
    """Notebook 03's Hyperband bars showed "HPO: 12eval" with no method, seed or total (issue 25)."""
    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    settings = {**SEARCH, "progress": True}
    for method in ("bohb", "random"):
        result = ex.run_search(method, tiny_objective(), tmp_path / method, 5, n_iterations=2, **settings)
        planned = (ex.hyperband_evaluations(1, 3, 3, 2) if method == "bohb"
                   else ex.random_search_trials(1, 3, 3, 2))
        assert result.n_evaluations == planned
        assert f"HPO: {method}, seed 5" in capsys.readouterr().out
    ex.separate_search(tiny_objective(), tmp_path / "sep", 5, n_iterations=2, **settings)
    out = capsys.readouterr().out
    assert "separate search, architecture stage, seed 5" in out and "separate search, training stage, seed 5" in out
