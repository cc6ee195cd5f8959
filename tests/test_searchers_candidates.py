"""Searchers restricted to a finite candidate set (a table's rows): only candidates, no repeats."""
from __future__ import annotations

import numpy as np
import pytest

from hpo_kit.methods import make_scheduler, make_searcher
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.searchers.candidates import CandidatePool

KINDS = ("random", "kde", "gp", "gp-multi-fidelity")
SMALL_GP = {"init_random": 4, "n_random_candidates": 50, "n_local_centres": 2, "n_local_per_centre": 10,
            "n_restarts": 1, "max_opt_iter": 20}


def _objective(n_rows: int = 60) -> TabularObjective:
    return TabularObjective(synthetic_table(n_configs=n_rows, n_epochs=9, seed=3))


def _searcher(kind: str, objective: TabularObjective, seed: int):
    config = None
    if kind == "kde":
        config = {"min_points_in_model": 3, "random_fraction": 0.2}
    elif kind.startswith("gp"):
        config = dict(SMALL_GP)
    return make_searcher(kind, objective.space, seed, objective.max_resource, config,
                         candidates=objective.candidates())


def _drive(kind: str, n: int, seed: int = 0, n_rows: int = 60) -> list[int]:
    """Suggest ``n`` configurations, reporting each at a few resources; return their table rows."""
    objective = _objective(n_rows)
    searcher = _searcher(kind, objective, seed)
    rows = []
    for trial_id in range(n):
        config = searcher.suggest()
        row = objective.row_of(config)
        assert config == objective.candidates()[row], "a suggestion must be a candidate, exactly"
        rows.append(row)
        searcher.on_pending(trial_id, config, 3)
        for r in (1, 3):
            loss = objective.evaluate(config, r, seed).loss
            searcher.on_result(trial_id, config, r, loss if np.isfinite(loss) else 1.0)
    return rows


@pytest.mark.parametrize("kind", KINDS)
def test_candidates_only_without_repeats_and_seeded(kind):
    rows = _drive(kind, 25)
    assert len(set(rows)) == len(rows)
    assert rows == _drive(kind, 25)


@pytest.mark.parametrize("kind", KINDS)
def test_pool_starts_a_new_pass_when_every_candidate_was_tried(kind):
    rows = _drive(kind, 15, n_rows=10)
    assert sorted(rows[:10]) == list(range(10))  # the first pass tries every row once
    assert len(set(rows[10:])) == 5  # then a second pass, again without repeats


def test_model_based_searchers_beat_random_on_the_table():
    """With the model active, KDE and GP pick better rows than uniform sampling (mean over seeds)."""
    objective = _objective(200)
    final = objective.table.val_error[:, 2]
    score = {}
    for kind in ("random", "kde", "gp"):
        score[kind] = np.mean([np.nanmean(final[_drive(kind, 30, seed=s, n_rows=200)[10:]]) for s in range(3)])
    assert score["kde"] < score["random"] and score["gp"] < score["random"], score


def test_default_is_unrestricted_and_bad_candidates_are_rejected():
    objective = _objective()
    with pytest.raises(ValueError, match="candidates must be a non-empty list"):
        make_scheduler("asha-promotion", objective.space, 1, 9, 3, candidates=[])
    with pytest.raises(TypeError, match="configuration dicts"):
        make_scheduler("bohb", objective.space, 1, 9, 3, candidates=[1, 2])
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        make_scheduler("gp", objective.space, 1, 9, 3, candidates=[{"nope": 1.0}])
    for method in ("random", "gp", "hyperband", "bohb", "asha-stopping", "abohb-promotion"):
        scheduler = make_scheduler(method, objective.space, 1, 9, 3, candidates=objective.candidates())
        assert isinstance(scheduler.searcher.pool, CandidatePool)
    assert make_scheduler("bohb", objective.space, 1, 9, 3).searcher.pool is None
