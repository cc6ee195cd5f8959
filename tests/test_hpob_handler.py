"""HPOBHandler against hand-worked pools (tests/fixtures/hpob_tiny, space "toy")."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hpo_kit.hpob import HPOBHandler, load_results, merge_results, save_results

FIXTURE = Path(__file__).parent / "fixtures" / "hpob_tiny"
DATA = FIXTURE / "hpob-data"


class Scripted:
    """Returns the scripted pool indices in turn and records what it was shown."""

    def __init__(self, picks):
        self.picks = list(picks)
        self.calls = []

    def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
        self.calls.append((np.array(X_obs), np.array(y_obs), None if X_pen is None else np.array(X_pen)))
        return self.picks[len(self.calls) - 1]


class Point:
    """Continuous: returns scripted points in turn."""

    def __init__(self, points):
        self.points = [np.asarray(p, dtype=float) for p in points]
        self.calls = []

    def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
        assert X_pen is None
        self.calls.append((np.array(X_obs), np.array(y_obs)))
        return self.points[len(self.calls) - 1]


@pytest.fixture(scope="module")
def h():
    return HPOBHandler(DATA, mode="v3-test")


def test_listing(h):
    assert h.get_search_spaces() == ["toy", "5971"]
    assert h.get_datasets("toy") == ["a", "b"]
    assert h.get_seeds() == ["test0", "test1", "test2", "test3", "test4"]
    assert h.get_search_space_dim("toy") == 2 and h.get_search_space_dim("5971") == 16
    assert h.meta_train_data is None  # v3-test loads the test split only


def test_normalisation_and_early_stop_first_pending(h):
    # toy/a: y = .2 .4 .6 1.0 .8 -> normalised 0 .25 .5 1 .75; test0 observes [0, 1].
    m = Scripted([0, 0, 0, 0])
    curve = h.evaluate(m, "toy", "a", "test0", n_trials=4)
    # trial 1 takes pool index 2 (.5); trial 2 takes index 3 (the max) and stops; padded with 1.
    assert curve == pytest.approx([0.25, 0.5, 1.0, 1.0, 1.0])
    assert len(m.calls) == 2
    X_obs, y_obs, X_pen = m.calls[0]
    assert X_obs.tolist() == [[0.0, 0.0], [0.1, 0.2]]
    assert y_obs.shape == (2, 1) and y_obs.ravel() == pytest.approx([0.0, 0.25])
    assert X_pen.tolist() == [[0.5, 0.5], [0.9, 0.1], [1.0, 1.0]]
    # the chosen point leaves the pool and joins the observations, in that order
    X_obs2, y_obs2, X_pen2 = m.calls[1]
    assert X_obs2[-1].tolist() == [0.5, 0.5] and y_obs2[-1, 0] == pytest.approx(0.5)
    assert X_pen2.tolist() == [[0.9, 0.1], [1.0, 1.0]]


def test_pool_index_is_relative_to_pending(h):
    # last pending each time: index 4 (.75), then the pool is [2, 3] -> last is 3 (max).
    m = Scripted([2, 1])
    assert h.evaluate(m, "toy", "a", "test0", n_trials=3) == pytest.approx([0.25, 0.75, 1.0, 1.0])


def test_max_in_initial_design_still_runs_one_trial(h):
    # test2 observes [3, 0]: the max is already there; HPO-B tests for it only after a trial.
    m = Scripted([0])
    curve = h.evaluate(m, "toy", "a", "test2", n_trials=5)
    assert curve == [1.0] * 6 and len(m.calls) == 1


def test_no_early_stop_without_max_and_length(h):
    # toy/b normalised: .5 0 1 .5 .25 .75, max at 2; test0 observes [1] (0.0).
    m = Scripted([4, 3, 0])  # pool [0,2,3,4,5]: picks 5 (.75), then pool [0,2,3,4] -> 4 (.25), then 0 (.5)
    curve = h.evaluate(m, "toy", "b", "test0", n_trials=3)
    assert curve == pytest.approx([0.0, 0.75, 0.75, 0.75])
    for n in (0, 1, 2, 7):
        assert len(h.evaluate(Scripted([0] * 10), "toy", "b", "test1", n_trials=n)) == n + 1


def test_numpy_integer_index_accepted(h):
    assert h.evaluate(Scripted([np.int64(1)]), "toy", "a", "test0", 1) == pytest.approx([0.25, 1.0])


@pytest.mark.parametrize("bad", [3, -1, 1.0, True, "0", None])
def test_out_of_pool_index(h, bad):
    with pytest.raises(ValueError, match=r"Scripted\.observe_and_suggest returned .* in \[0, 2\]"):
        h.evaluate(Scripted([bad]), "toy", "a", "test0", 1)


def test_bad_names(h):
    with pytest.raises(ValueError, match=r"search_space_id must be one of 'toy', '5971'; got 'nope'"):
        h.evaluate(Scripted([0]), "nope", "a", "test0", 1)
    with pytest.raises(ValueError, match=r"dataset_id \(of search space toy\) must be one of 'a', 'b'; got 'c'"):
        h.evaluate(Scripted([0]), "toy", "c", "test0", 1)
    with pytest.raises(ValueError, match=r"seed must be one of 'test0'.*'test4'; got 'test5'"):
        h.evaluate(Scripted([0]), "toy", "a", "test5", 1)
    with pytest.raises(ValueError, match="n_trials"):
        h.evaluate(Scripted([0]), "toy", "a", "test0", -1)
    with pytest.raises(ValueError, match="observe_and_suggest"):
        h.evaluate(object(), "toy", "a", "test0", 1)
    with pytest.raises(ValueError, match="mode must be one of"):
        HPOBHandler(DATA, mode="v4")
    with pytest.raises(ValueError, match="split 'meta-train' is not loaded in mode 'v3-test'"):
        h.split_data("meta-train")


def test_constant_task_is_an_error(tmp_path):
    root = tmp_path / "hpob-data"
    shutil.copytree(DATA, root)
    test = json.loads((root / "meta-test-dataset.json").read_text())
    test["toy"]["a"]["y"] = [[0.5]] * 5
    (root / "meta-test-dataset.json").write_text(json.dumps(test))
    with pytest.raises(ValueError, match="toy/a: cannot min-max normalise"):
        HPOBHandler(root).evaluate(Scripted([0]), "toy", "a", "test0", 1)


def test_modes_and_gzip(tmp_path):
    v3 = HPOBHandler(DATA, mode="v3")
    assert list(v3.tasks("toy", "meta-train")) == ["t1"]
    assert list(v3.tasks("5971", "meta-validation")) == ["va1"]
    v2 = HPOBHandler(DATA, mode="v2")
    assert set(v2.get_datasets("toy")) == {"t1", "a", "b", "v1"}  # as HPO-B: every split evaluable
    root = tmp_path / "packed"
    root.mkdir()
    for f in DATA.glob("*.json"):
        (root / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    packed = HPOBHandler(root, mode="v3")
    assert packed.get_datasets("5971") == v3.get_datasets("5971")


def test_same_seed_same_curve(h):
    class Rand:
        def __init__(self, seed):
            self.rng = np.random.default_rng(seed)

        def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
            return int(self.rng.integers(len(X_pen)))

    a = h.evaluate(Rand(1), "5971", "te1", "test3", 20)
    assert a == h.evaluate(Rand(1), "5971", "te1", "test3", 20)
    assert len(a) == 21 and all(x <= y for x, y in zip(a, a[1:])) and a[-1] <= 1.0


class StubSurrogate:
    """Scripted raw scores in place of an xgboost model."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.n = 0

    def predict(self, dmatrix):
        self.n += 1
        return np.array([self.scores[self.n - 1]], dtype=np.float32)


def _with_stub(scores):
    h = HPOBHandler(DATA, surrogates_dir=FIXTURE / "saved-surrogates")
    h._surrogate_cache["surrogate-toy-a"] = StubSurrogate(scores)
    h.surrogates_stats = dict(h.surrogates_stats, **{"surrogate-toy-a": {"y_min": 0.2, "y_max": 1.0}})
    return h


def test_continuous_faithful_final_entry_and_unfaithful():
    # init test0 = raw .2 .4 -> normalised 0 .25; scores .6 (.5), .5 (.375), .9 (.875)
    pts = [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]
    curve = _with_stub([0.6, 0.5, 0.9]).evaluate_continuous(Point(pts), "toy", "a", "test0", 3)
    assert curve == pytest.approx([0.25, 0.5, 0.5, 0.5])  # HPO-B never counts the last trial
    fixed = _with_stub([0.6, 0.5, 0.9]).evaluate_continuous(Point(pts), "toy", "a", "test0", 3, faithful=False)
    assert fixed == pytest.approx([0.25, 0.5, 0.5, 0.875])


def test_continuous_stop_pads_with_one_and_clips():
    m = Point([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])
    h = _with_stub([-0.5, 1.1, 0.3])
    curve = h.evaluate_continuous(m, "toy", "a", "test0", 4)
    # before t1: .25; before t2: .25 (score -0.5 clipped to 0); stop at t2; stale .25; pad 1, 1
    assert curve == pytest.approx([0.25, 0.25, 0.25, 1.0, 1.0])
    assert len(m.calls) == 2
    assert m.calls[1][1].ravel() == pytest.approx([0.0, 0.25, 0.0])  # y shown to the method is clipped
    assert m.calls[1][0][-1].tolist() == [0.1, 0.1]


def test_continuous_bad_points():
    for bad, pattern in [([0.5], "dimension 2"), ([0.5, np.nan], "finite"), ([0.5, 1.5], r"outside \[0, 1\]\^2")]:
        with pytest.raises(ValueError, match=pattern):
            _with_stub([0.5]).evaluate_continuous(Point([bad]), "toy", "a", "test0", 1)


def test_continuous_with_real_fixture_surrogate():
    h = HPOBHandler(DATA)  # finds ../saved-surrogates by itself
    assert h.surrogates_dir is not None

    class Rand:
        rng = np.random.default_rng(0)

        def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
            return self.rng.random(X_obs.shape[1]).reshape(1, -1)  # (1, d) accepted, as in HPO-B

    curve = h.evaluate_continuous(Rand(), "5971", "te2", "test1", 15)
    assert len(curve) == 16 and all(0.0 <= v <= 1.0 for v in curve)
    assert all(x <= y for x, y in zip(curve, curve[1:]))


def test_evaluate_all_and_results_roundtrip(h, tmp_path):
    res = h.evaluate_all(lambda sp, ds, s: Scripted([0] * 10), "toy", 3)
    assert set(res["toy"]) == {"a", "b"} and set(res["toy"]["a"]) == set(h.get_seeds())
    assert res["toy"]["a"]["test0"] == pytest.approx([0.25, 0.5, 1.0, 1.0])
    save_results(res, tmp_path / "r.json")
    assert load_results(tmp_path / "r.json") == res
    with pytest.raises(ValueError, match="given twice"):
        merge_results(res, res)
    with pytest.raises(ValueError, match="seed must be one of"):
        h.evaluate_all(lambda *a: Scripted([0]), "toy", 3, seeds=["x"])
