"""bench/searcher_quality.py: the rank / Friedman / Holm computation against hand-worked tables, and a tiny run."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "searcher_quality.py"
_spec = importlib.util.spec_from_file_location("searcher_quality", _PATH)
sq = importlib.util.module_from_spec(_spec)
sys.modules["searcher_quality"] = sq  # its dataclasses look their module up there
_spec.loader.exec_module(sq)

# 4 (task, seed) blocks x 3 methods A, B, C. Block 4's A and B differ by 1e-10: equal after HPO-B's
# rounding to 8 decimals, so they tie.
#   block 1: 0.1 0.2 0.3 -> ranks 1   2   3
#   block 2: 0.2 0.1 0.3 ->       2   1   3
#   block 3: 0.1 0.3 0.2 ->       1   3   2
#   block 4: 0.1 0.1 0.5 ->       1.5 1.5 3
# rank sums R = 5.5, 7.5, 11; average ranks 1.375, 1.875, 2.75.
# Friedman: 12 / (N k (k+1)) * sum R^2 - 3 N (k+1) = 12/48 * 207.5 - 48 = 3.875; tie correction
# 1 - sum(t^3 - t) / (N k (k^2 - 1)) = 1 - 6/96 = 0.9375 -> chi2 = 4.1333; p = exp(-chi2 / 2) (2 df) = 0.1266.
HAND = np.array([[0.1, 0.2, 0.3], [0.2, 0.1, 0.3], [0.1, 0.3, 0.2], [0.1, 0.1 + 1e-10, 0.5]])


def test_ranks_and_friedman_match_the_hand_worked_table():
    ranks = sq.block_ranks(HAND)
    assert ranks.tolist() == [[1, 2, 3], [2, 1, 3], [1, 3, 2], [1.5, 1.5, 3]]
    a = sq.rank_analysis(HAND, ["A", "B", "C"])
    assert a["avg_rank"] == pytest.approx({"A": 1.375, "B": 1.875, "C": 2.75})
    assert a["friedman_stat"] == pytest.approx(3.875 / 0.9375)
    assert a["friedman_p"] == pytest.approx(math.exp(-(3.875 / 0.9375) / 2))
    assert a["pairs"] == []  # Friedman does not reject: the pairwise tests are gated off


def test_friedman_gate_opens_and_holm_corrects():
    # 10 blocks where A < B < C always: R = 10, 20, 30 -> chi2 = 0.1 * 1400 - 120 = 20, p = exp(-10)
    regrets = np.tile([0.1, 0.2, 0.3], (10, 1))
    a = sq.rank_analysis(regrets, ["A", "B", "C"])
    assert a["friedman_stat"] == pytest.approx(20.0)
    assert a["friedman_p"] == pytest.approx(math.exp(-10.0))
    assert [(p["a"], p["b"], p["different"]) for p in a["pairs"]] == [("A", "B", True), ("A", "C", True),
                                                                        ("B", "C", True)]
    # Holm by hand: sorted p 0.01 <= 0.05/3 rejects; 0.03 > 0.05/2 stops (0.04 is then kept too)
    assert sq.holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert sq.holm([0.04, 0.01, 0.02], 0.05) == [True, True, True]  # 0.01 <= .0167, 0.02 <= .025, 0.04 <= .05
    # Nemenyi: q_0.05(k = 3) = 2.343 (Demsar 2006, table 5) times sqrt(k (k+1) / (6 N)) with N = 4
    assert sq.nemenyi_cd(3, 4, 0.05) == pytest.approx(2.343 * math.sqrt(0.5), abs=1e-3)


def test_all_tied_blocks_and_bad_shapes():
    a = sq.rank_analysis(np.zeros((5, 3)), ["A", "B", "C"])
    assert a["friedman_p"] == 1.0 and a["avg_rank"] == {"A": 2.0, "B": 2.0, "C": 2.0}
    with pytest.raises(ValueError, match="regrets must be"):
        sq.rank_analysis(np.zeros((5, 2)), ["A", "B"])


def test_runs_are_seeded_and_regret_is_the_incumbents_truth():
    task = sq.make_task("nasbench201_cifar10")
    a, cpu = sq.run_one(task, "kit-gp", seed=3, n_evals=12)
    b, _ = sq.run_one(task, "kit-gp", seed=3, n_evals=12)
    assert np.array_equal(a, b) and cpu >= 0
    assert np.all(a >= 0) and np.all(np.diff(a) <= 0)  # regret of the observed-best config, never below optimum
    c, _ = sq.run_one(task, "random", seed=3, n_evals=12)
    assert np.array_equal(a[:10], c[:10])  # GP-EI's 10 initial points are random search's (same seed)
    # the kit's TPE wrapper and Optuna's TPESampler see the same space the same way: same trajectory
    assert np.array_equal(sq.run_one(task, "kit-tpe", 1, 12)[0], sq.run_one(task, "optuna-tpe", 1, 12)[0])


def test_tiny_run_prints_the_tables(capsys):
    rc = sq.main(["--tasks", "nasbench201_cifar10", "branin", "--searchers", "random", "kit-gp", "optuna-tpe",
                  "--seeds", "2", "--evals", "12", "--budgets", "5", "12", "--jobs", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Mean normalised regret" in out and "Budget 12: average rank over 4 (task, seed) blocks" in out
    for name in ("random", "kit-gp", "optuna-tpe", "nasbench201_cifar10", "branin"):
        assert name in out


def test_bad_arguments_name_the_allowed_values(capsys):
    with pytest.raises(SystemExit):
        sq.main(["--searchers", "random", "hyperopt", "kit-gp"])
    assert "unknown ['hyperopt']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="task must be one of"):
        sq.make_task("hpobench_mnist")


# ------------------------------------------------------------------ the GP-EI repair the suite showed
def test_gp_ei_config_refits_at_every_observation_below_100():
    from hpo_kit.objectives.synthetic import Hartmann6MF
    from hpo_kit.searchers.gp_searcher import GPSearcher, GPSearcherConfig, gp_ei_config

    objective = Hartmann6MF(max_resource=1)
    fitted_at = {"default": [], "fixed": []}
    for label, config in (("default", GPSearcherConfig()), ("fixed", gp_ei_config())):
        searcher = GPSearcher(objective.space, 0, config)
        for t in range(16):
            x = searcher.suggest()
            if searcher.n_observations >= 10:
                fitted_at[label].append(searcher._n_at_fit)
            searcher.on_result(t, x, 1, objective.evaluate(x, 1, 0).loss)
    assert fitted_at["default"] == [10] * 6  # the A-BOHB schedule: next refit at 20
    assert fitted_at["fixed"] == list(range(10, 16))
    with pytest.raises(ValueError, match="refit_every_below must be an integer >= 0"):
        GPSearcher(objective.space, 0, GPSearcherConfig(refit_every_below=-1))
    with pytest.raises(ValueError, match=r"categorical_inputs must be one of \['index', 'onehot', 'hamming'\]"):
        GPSearcher(objective.space, 0, GPSearcherConfig(categorical_inputs="embedding"))
    with pytest.raises(ValueError, match=r"hyperparameter_prior must be one of \['none', 'gamma'\]"):
        GPSearcher(objective.space, 0, GPSearcherConfig(hyperparameter_prior="laplace"))


def test_onehot_categoricals_are_unordered_inputs():
    from hpo_kit.searchers.gp_searcher import GPSearcher, gp_ei_config

    table = sq.make_task("hpolib_protein_structure").objective.table  # 3 categoricals (2 choices each), 6 ordinals
    searcher = GPSearcher(table.space(), 0, gp_ei_config(categorical_inputs="onehot"))
    assert searcher.kernel.dim == 6 + 3 * 2
    a = table.config_of(0)
    b = dict(a, activation_fn_1="tanh")
    Z = searcher._inputs(searcher.encoder.encode_many([a, b]), 1)
    assert Z.shape == (2, 12) and np.linalg.norm(Z[0] - Z[1]) == pytest.approx(1.0)
    nb = sq.make_task("nasbench201_cifar10").objective.table  # 6 categoricals of 5 operations
    s = GPSearcher(nb.space(), 0, gp_ei_config(categorical_inputs="onehot"))
    c = nb.config_of(0)
    Z = s._inputs(s.encoder.encode_many([c, dict(c, Op0="skip_connect"), dict(c, Op0="avg_pool_3x3")]), 1)
    # "none" is as far from its neighbour in the list as from the last operation: no order
    assert np.linalg.norm(Z[0] - Z[1]) == pytest.approx(np.linalg.norm(Z[0] - Z[2])) == pytest.approx(1.0)


def test_repaired_gp_ei_beats_the_old_schedule_on_hartmann6():
    """Measured before the repair: 0.288 (default) vs 0.068 (gp_ei_config), 4 seeds x 30 evaluations."""
    task = sq.make_task("hartmann6")
    before = np.mean([sq.run_one(task, "kit-gp", s, 30)[0][-1] for s in range(4)])
    after = np.mean([sq.run_one(task, "kit-gp-fixed", s, 30)[0][-1] for s in range(4)])
    assert after < 0.5 * before
