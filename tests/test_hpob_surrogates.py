"""HPO-B's surrogate recipe (hpo_kit.hpob.surrogates)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo_kit.hpob import HPOBHandler, surrogates

DATA = Path(__file__).parent / "fixtures" / "hpob_tiny" / "hpob-data"


def test_grid_search_uses_hpob_settings_and_takes_the_lowest_last_rmse(monkeypatch):
    import xgboost as xgb

    seen = []
    # a made-up CV surface whose minimum is at eta 0.1, 100 rounds
    target = {(0.1, 100): 0.01}

    def fake_cv(params, dtrain, nfold, num_boost_round, early_stopping_rounds, metrics, as_pandas, seed):
        seen.append((params, nfold, num_boost_round, early_stopping_rounds, metrics, seed))
        last = target.get((params["eta"], num_boost_round), 0.5 + params["eta"])
        return pd.DataFrame({"test-rmse-mean": [0.9, last]})

    monkeypatch.setattr(xgb, "cv", fake_cv)
    X, y = np.random.default_rng(0).random((20, 3)), np.random.default_rng(1).random(20)
    eta, rounds, rmse = surrogates.tune(X, y)
    assert (eta, rounds, rmse) == (0.1, 100, 0.01)
    assert [(p["eta"], r) for p, _, r, *_ in seen] == [(e, r) for e in (0.001, 0.01, 0.1, 0.5)
                                                       for r in (20, 50, 100, 500)]
    p, nfold, _, es, metric, seed = seen[0]
    assert (nfold, es, metric, seed) == (5, 10, "rmse", 123)
    assert p["max_depth"] == 6 and p["objective"] == "reg:squarederror" and p["base_score"] == 0.5


def test_final_model_trains_the_full_chosen_rounds(monkeypatch):
    monkeypatch.setattr(surrogates, "tune", lambda X, y, nthread=1: (0.5, 20, 0.1))
    rng = np.random.default_rng(0)
    X = rng.random((30, 4))
    y = X[:, 0] + 0.1 * rng.random(30)
    booster, info = surrogates.fit_surrogate(X, y)
    assert booster.num_boosted_rounds() == 20
    assert info["y_min"] == pytest.approx(y.min()) and info["y_max"] == pytest.approx(y.max())
    # a depth-6 model on a clear signal fits it
    assert info["train_mse"] < np.var(y) / 4


def test_too_few_points():
    with pytest.raises(ValueError, match="at least 5 points"):
        surrogates.tune(np.zeros((4, 2)), np.arange(4.0))


def test_train_surrogates_files_stats_and_resume(tmp_path, monkeypatch):
    root = tmp_path / "hpob-data"
    shutil.copytree(DATA, root)
    out = tmp_path / "saved-surrogates"
    monkeypatch.setattr(surrogates, "tune", lambda X, y, nthread=1: (0.1, 20, 0.0))
    stats = surrogates.train_surrogates(root, out, search_spaces=["toy"])
    assert set(stats) == {"surrogate-toy-a", "surrogate-toy-b"}
    assert stats["surrogate-toy-a"] == {"y_min": 0.2, "y_max": 1.0}
    assert json.loads((out / "summary-stats.json").read_text()) == stats
    assert (out / "surrogate-toy-a.json").is_file()

    def boom(*a, **k):
        raise AssertionError("refitted a finished surrogate")

    monkeypatch.setattr(surrogates, "fit_surrogate", boom)
    surrogates.train_surrogates(root, out, search_spaces=["toy"])  # resumes: nothing to do
    h = HPOBHandler(root, surrogates_dir=out)
    assert h.surrogate_range("toy", "b") == (0.5, 0.9)
    with pytest.raises(ValueError, match="splits must be drawn from"):
        surrogates.train_surrogates(root, out, splits=["test"])


def test_shipped_fixture_surrogates_follow_the_recipe():
    info = json.loads((DATA.parent / "saved-surrogates" / "surrogates-info.json").read_text())
    for name, rec in info.items():
        assert rec["eta"] in surrogates.ETA_GRID and rec["rounds"] in surrogates.ROUNDS_GRID, name
