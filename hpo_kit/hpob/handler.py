"""The HPO-B evaluation protocol (Pineda Arango et al., NeurIPS Datasets & Benchmarks 2021).

:class:`HPOBHandler` follows the semantics of HPO-B's own ``HPOBHandler`` (repository
machinelearningnuremberg/HPO-B, ``hpob_handler.py``), re-implemented here with input checks:

* meta-datasets are JSON files ``{search_space_id: {dataset_id: {"X": [[...], ...], "y": [[...], ...]}}}``
  named ``meta-train-dataset.json``, ``meta-validation-dataset.json``, ``meta-test-dataset.json``,
  ``meta-train-dataset-augmented.json``, plus ``bo-initializations.json``
  (``{space: {dataset: {"test0": [indices], ..., "test4": [...]}}}``). A ``.json.gz`` next to or
  instead of a ``.json`` is read too (the kit ships its own meta-dataset compressed).
* :meth:`HPOBHandler.evaluate` (discrete): ``y`` of the task is min-max normalised over the whole
  task; the initial design of the seed is observed; each trial the method's
  ``observe_and_suggest(X_obs, y_obs, X_pen)`` returns an index into the pending pool ``X_pen``; the
  run stops once the task's maximum has been observed and the rest of the curve is padded with that
  maximum (1.0). The result always has ``n_trials + 1`` incumbents (entry 0 = the initial design).
  As in HPO-B the stop test runs after a trial, so at least one trial is made even when the initial
  design already holds the maximum.
* :meth:`HPOBHandler.evaluate_continuous`: the method is called as ``observe_and_suggest(X_obs, y_obs)``
  (no pool) and returns a point in ``[0, 1]^d`` which the task's XGBoost surrogate scores; observed
  ``y`` is normalised by the task's ``y_min``/``y_max`` (``summary-stats.json``) and clipped to [0, 1].
  The run stops once a raw score reaches ``y_max`` and is padded with 1.0. HPO-B's code appends a
  stale incumbent as the final entry (the score of the last trial is never counted unless it hit
  the maximum); ``faithful=True`` (default) reproduces that, ``faithful=False`` counts it.

Results of many runs are ``{space: {dataset: {seed: [incumbents]}}}``, the layout of HPO-B's
``results/*.json`` files (see :func:`save_results`, :func:`load_results`).
"""
from __future__ import annotations

import gzip
import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpo_kit.validation import check_int

SEEDS = ("test0", "test1", "test2", "test3", "test4")
MODES = ("v1", "v2", "v3", "v3-test", "v3-train-augmented")
SPLITS = ("meta-train", "meta-validation", "meta-test")

META_TRAIN = "meta-train-dataset"
META_TRAIN_AUGMENTED = "meta-train-dataset-augmented"
META_VALIDATION = "meta-validation-dataset"
META_TEST = "meta-test-dataset"
BO_INITIALIZATIONS = "bo-initializations"
SURROGATE_STATS = "summary-stats.json"


def surrogate_name(search_space_id: str, dataset_id: str) -> str:
    """File stem of a task's surrogate, HPO-B's naming: ``surrogate-<space>-<dataset>``."""
    return f"surrogate-{search_space_id}-{dataset_id}"


def read_json(folder: str | Path, stem: str) -> Any:
    """Read ``<stem>.json`` or ``<stem>.json.gz`` from ``folder``; FileNotFoundError naming both."""
    folder = Path(folder)
    plain, packed = folder / f"{stem}.json", folder / f"{stem}.json.gz"
    if plain.is_file():
        with open(plain, "rb") as f:
            return json.load(f)
    if packed.is_file():
        with gzip.open(packed, "rb") as f:
            return json.load(f)
    raise FileNotFoundError(
        f"{stem}.json (or {stem}.json.gz) not found in {folder}. Point root_dir at a folder in HPO-B's "
        f"layout: the real data (hpo_kit.hpob.download.download_hpob) or the kit's own meta-dataset "
        f"(hpo_kit.hpob.kit_meta.build_hpob_folder)."
    )


def _choices(values: Iterable[str], limit: int = 30) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _check_name(kind: str, value: object, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{kind} must be one of {_choices(allowed)}; got {value!r}")
    return value


def _check_trials(n_trials: object) -> int:
    return check_int("n_trials", n_trials, 0)


def _check_method(method: object) -> Callable:
    suggest = getattr(method, "observe_and_suggest", None)
    if not callable(suggest):
        raise ValueError(f"method must have an observe_and_suggest(X_obs, y_obs, X_pen=None) method; "
                         f"got {type(method).__name__}")
    return suggest


class HPOBHandler:
    """Load an HPO-B-format meta-dataset and run methods on it with HPO-B's protocol.

    ``mode`` as in HPO-B: ``"v3-test"`` (meta-test split only), ``"v3"`` (train / validation / test
    kept apart), ``"v3-train-augmented"`` (as v3, meta-train from the augmented file), ``"v1"`` /
    ``"v2"`` (every split merged into ``meta_test_data``; v1 uses the augmented meta-train).
    ``surrogates_dir`` holds ``surrogate-<space>-<dataset>.json`` and ``summary-stats.json`` for
    :meth:`evaluate_continuous`; None = look for ``saved-surrogates/`` next to ``root_dir``.
    """

    def __init__(self, root_dir: str | Path = "hpob-data", mode: str = "v3-test",
                 surrogates_dir: str | Path | None = None):
        self.mode = _check_name("mode", mode, MODES)
        self.root_dir = Path(root_dir).expanduser()
        if not self.root_dir.is_dir():
            raise FileNotFoundError(f"root_dir {self.root_dir} is not a folder (expected HPO-B's hpob-data/ layout)")
        self.seeds = list(SEEDS)
        self.meta_train_data: dict | None = None
        self.meta_validation_data: dict | None = None
        self.meta_test_data: dict = read_json(self.root_dir, META_TEST)
        self.bo_initializations: dict = read_json(self.root_dir, BO_INITIALIZATIONS)
        if mode != "v3-test":
            train_stem = META_TRAIN_AUGMENTED if mode in ("v1", "v3-train-augmented") else META_TRAIN
            self.meta_train_data = read_json(self.root_dir, train_stem)
            self.meta_validation_data = read_json(self.root_dir, META_VALIDATION)
        if mode in ("v1", "v2"):
            # As HPO-B: every split becomes evaluable, grouped by the meta-train file's spaces.
            merged: dict = {}
            for space, tasks in self.meta_train_data.items():
                merged[space] = dict(tasks)
                if space in self.meta_test_data:
                    merged[space].update(self.meta_test_data[space])
                    merged[space].update(self.meta_validation_data.get(space, {}))
            self.meta_test_data, self.meta_train_data, self.meta_validation_data = merged, None, None
        self.search_space_dims = {}
        for space, tasks in self.meta_test_data.items():
            first = next(iter(tasks.values()), None)
            if first is not None and len(first["X"]):
                self.search_space_dims[space] = len(first["X"][0])
        if surrogates_dir is None:
            guess = self.root_dir.parent / "saved-surrogates"
            surrogates_dir = guess if (guess / SURROGATE_STATS).is_file() else None
        self.surrogates_dir = Path(surrogates_dir).expanduser() if surrogates_dir is not None else None
        self.surrogates_stats: dict | None = None
        if self.surrogates_dir is not None and (self.surrogates_dir / SURROGATE_STATS).is_file():
            with open(self.surrogates_dir / SURROGATE_STATS) as f:
                self.surrogates_stats = json.load(f)
        self._surrogate_cache: dict[str, Any] = {}
        self.source = "folder"  # open_benchmark sets "hpob" (real data) or "kit" (the kit's own)
        # Provenance written by the kit's own builder (absent for HPO-B's data).
        self.info: dict = {}
        if (self.root_dir / "kit-meta-info.json").is_file():
            with open(self.root_dir / "kit-meta-info.json") as f:
                self.info = json.load(f)

    # -- listing ------------------------------------------------------------------------------------
    def get_search_spaces(self) -> list[str]:
        return list(self.meta_test_data.keys())

    def get_datasets(self, search_space_id: str) -> list[str]:
        _check_name("search_space_id", search_space_id, self.meta_test_data)
        return list(self.meta_test_data[search_space_id].keys())

    def get_seeds(self) -> list[str]:
        return list(self.seeds)

    def get_search_space_dim(self, search_space_id: str) -> int:
        _check_name("search_space_id", search_space_id, self.search_space_dims)
        return self.search_space_dims[search_space_id]

    def split_data(self, split: str) -> dict:
        """The raw ``{space: {dataset: {"X", "y"}}}`` of one split (``meta-train`` etc.)."""
        _check_name("split", split, SPLITS)
        data = {"meta-train": self.meta_train_data, "meta-validation": self.meta_validation_data,
                "meta-test": self.meta_test_data}[split]
        if data is None:
            raise ValueError(f"split {split!r} is not loaded in mode {self.mode!r}; use mode='v3' "
                             f"(or 'v3-train-augmented') to keep meta-train and meta-validation apart")
        return data

    def tasks(self, search_space_id: str, split: str = "meta-test") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{dataset_id: (X (n, d), y (n, 1))}`` of one space in one split, as float arrays (y raw)."""
        data = self.split_data(split)
        _check_name(f"search_space_id (in split {split})", search_space_id, data)
        return {ds: (np.asarray(t["X"], dtype=float), np.asarray(t["y"], dtype=float).reshape(-1, 1))
                for ds, t in data[search_space_id].items()}

    def task(self, search_space_id: str, dataset_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Raw ``(X, y)`` of one evaluable (meta-test) task; y has shape (n, 1)."""
        self._check_task(search_space_id, dataset_id)
        t = self.meta_test_data[search_space_id][dataset_id]
        return np.asarray(t["X"], dtype=float), np.asarray(t["y"], dtype=float).reshape(-1, 1)

    def initial_design(self, search_space_id: str, dataset_id: str, seed: str) -> list[int]:
        self._check_task(search_space_id, dataset_id, seed)
        return [int(i) for i in self.bo_initializations[search_space_id][dataset_id][seed]]

    def _check_task(self, search_space_id: str, dataset_id: str, seed: str | None = None) -> None:
        _check_name("search_space_id", search_space_id, self.meta_test_data)
        _check_name(f"dataset_id (of search space {search_space_id})", dataset_id,
                    self.meta_test_data[search_space_id])
        if seed is not None:
            inits = self.bo_initializations.get(search_space_id, {}).get(dataset_id)
            if inits is None:
                raise ValueError(f"bo-initializations has no initial designs for search space "
                                 f"{search_space_id!r}, dataset {dataset_id!r}")
            _check_name("seed", seed, [s for s in self.seeds if s in inits])

    # -- discrete protocol --------------------------------------------------------------------------
    @staticmethod
    def normalize(y: np.ndarray, y_min: float | None = None, y_max: float | None = None) -> np.ndarray:
        """Min-max normalisation, by the array's own range unless ``y_min``/``y_max`` are given."""
        y = np.asarray(y, dtype=float)
        if y_min is None:
            y_min, y_max = float(np.min(y)), float(np.max(y))
        if not y_max > y_min:
            raise ValueError(f"cannot min-max normalise: y_max ({y_max}) must exceed y_min ({y_min}) "
                             f"(the task's responses are constant)")
        return (y - y_min) / (y_max - y_min)

    def evaluate(self, method: Any, search_space_id: str, dataset_id: str, seed: str,
                 n_trials: int = 10) -> list[float]:
        """Run ``method`` on one task's pool; ``n_trials + 1`` normalised incumbents (see module doc)."""
        suggest = _check_method(method)
        n_trials = _check_trials(n_trials)
        self._check_task(search_space_id, dataset_id, seed)
        X, y_raw = self.task(search_space_id, dataset_id)
        try:
            y = self.normalize(y_raw)
        except ValueError as err:
            raise ValueError(f"task {search_space_id}/{dataset_id}: {err}") from None
        init = self.initial_design(search_space_id, dataset_id, seed)
        bad = [i for i in init if not 0 <= i < len(X)]
        if bad or len(set(init)) != len(init):
            raise ValueError(f"bo-initializations[{search_space_id}][{dataset_id}][{seed}] = {init} must be "
                             f"distinct indices in [0, {len(X) - 1}]")
        observed = list(init)
        initial = set(init)
        pending = [i for i in range(len(X)) if i not in initial]
        y_best = float(np.max(y))  # = 1.0 after normalisation
        history = [float(np.max(y[observed]))]
        for trial in range(n_trials):
            if not pending:  # whole pool observed (then its max was observed too and we stopped)
                break
            idx = suggest(X_obs=X[observed], y_obs=y[observed], X_pen=X[pending])
            idx = self._check_index(idx, len(pending), method, trial)
            chosen = pending.pop(idx)
            observed.append(chosen)
            history.append(max(history[-1], float(y[chosen, 0])))
            if history[-1] >= y_best:
                break
        history += [y_best] * (n_trials + 1 - len(history))
        return history

    @staticmethod
    def _check_index(idx: object, n_pending: int, method: object, trial: int) -> int:
        value = idx
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(()).item()
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < n_pending:
            raise ValueError(f"{type(method).__name__}.observe_and_suggest returned {idx!r} at trial {trial + 1}: "
                             f"it must be an integer index into X_pen, in [0, {n_pending - 1}]")
        return int(value)

    # -- continuous protocol ------------------------------------------------------------------------
    def surrogate(self, search_space_id: str, dataset_id: str):
        """The task's XGBoost surrogate (an ``xgboost.Booster``), loaded once."""
        self._check_task(search_space_id, dataset_id)
        name = surrogate_name(search_space_id, dataset_id)
        if name not in self._surrogate_cache:
            if self.surrogates_dir is None:
                raise FileNotFoundError("no surrogates_dir: give HPOBHandler(surrogates_dir=...) a folder with HPO-B's "
                                        "saved-surrogates (hpo_kit.hpob.download) or train them with "
                                        "hpo_kit.hpob.surrogates.train_surrogates")
            path = self.surrogates_dir / f"{name}.json"
            if not path.is_file():
                raise FileNotFoundError(f"surrogate {path} not found")
            import xgboost as xgb

            booster = xgb.Booster()
            booster.load_model(str(path))
            booster.set_param({"nthread": 1})
            self._surrogate_cache[name] = booster
        return self._surrogate_cache[name]

    def surrogate_range(self, search_space_id: str, dataset_id: str) -> tuple[float, float]:
        name = surrogate_name(search_space_id, dataset_id)
        if self.surrogates_stats is None or name not in self.surrogates_stats:
            raise FileNotFoundError(f"{SURROGATE_STATS} in {self.surrogates_dir} has no entry {name!r}")
        stats = self.surrogates_stats[name]
        return float(stats["y_min"]), float(stats["y_max"])

    def evaluate_continuous(self, method: Any, search_space_id: str, dataset_id: str, seed: str,
                            n_trials: int = 10, *, faithful: bool = True) -> list[float]:
        """Run ``method`` on the task's surrogate; ``n_trials + 1`` normalised incumbents."""
        suggest = _check_method(method)
        n_trials = _check_trials(n_trials)
        if not isinstance(faithful, bool):
            raise ValueError(f"faithful must be True or False, got {faithful!r}")
        self._check_task(search_space_id, dataset_id, seed)
        booster = self.surrogate(search_space_id, dataset_id)
        y_min, y_max = self.surrogate_range(search_space_id, dataset_id)
        X, y = self.task(search_space_id, dataset_id)
        dim = X.shape[1]
        init = self.initial_design(search_space_id, dataset_id, seed)
        x_obs, y_obs = X[init], y[init]
        import xgboost as xgb

        def incumbent(values: np.ndarray) -> float:
            return float(np.max(np.clip(self.normalize(values, y_min, y_max), 0.0, 1.0)))

        history: list[float] = []
        stopped = False
        for trial in range(n_trials):
            history.append(incumbent(y_obs))
            x_new = self._check_point(suggest(x_obs, np.clip(self.normalize(y_obs, y_min, y_max), 0.0, 1.0)),
                                      dim, method, trial)
            y_new = float(booster.predict(xgb.DMatrix(x_new.reshape(1, dim)))[0])
            x_obs = np.vstack([x_obs, x_new.reshape(1, dim)])
            y_obs = np.vstack([y_obs, [[y_new]]])
            if float(np.max(y_obs)) >= y_max:  # as HPO-B: initial responses count too
                stopped = True
                break
        if faithful:
            # HPO-B appends the incumbent from *before* the last trial (its best_f is not updated).
            history.append(history[-1] if history else incumbent(y_obs))
        else:
            history.append(incumbent(y_obs))
        if stopped:
            history += [1.0] * (n_trials + 1 - len(history))
        return history

    @staticmethod
    def _check_point(x: object, dim: int, method: object, trial: int) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        if arr.size != dim or not np.all(np.isfinite(arr)):
            raise ValueError(f"{type(method).__name__}.observe_and_suggest returned {x!r} at trial {trial + 1}: "
                             f"it must be a finite point of dimension {dim}")
        # Tolerate round-off from optimisers working on the unit cube, nothing more.
        if np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9):
            raise ValueError(f"{type(method).__name__}.observe_and_suggest returned a point outside [0, 1]^{dim} "
                             f"at trial {trial + 1}: min {arr.min():.4g}, max {arr.max():.4g}")
        return np.clip(arr.reshape(dim), 0.0, 1.0)

    # -- many runs ----------------------------------------------------------------------------------
    def evaluate_all(self, make_method: Callable[[str, str, str], Any], search_space_id: str, n_trials: int,
                     *, datasets: Iterable[str] | None = None, seeds: Iterable[str] | None = None,
                     continuous: bool = False) -> dict:
        """``{space: {dataset: {seed: incumbents}}}`` for a fresh ``make_method(space, dataset, seed)`` per run."""
        n_trials = _check_trials(n_trials)
        all_datasets = self.get_datasets(search_space_id)
        datasets = list(all_datasets if datasets is None else datasets)
        seeds = list(self.seeds if seeds is None else seeds)
        for ds in datasets:
            _check_name(f"dataset_id (of search space {search_space_id})", ds, all_datasets)
        for s in seeds:
            _check_name("seed", s, self.seeds)
        run = self.evaluate_continuous if continuous else self.evaluate
        out: dict = {search_space_id: {}}
        for ds in datasets:
            out[search_space_id][ds] = {}
            for s in seeds:
                out[search_space_id][ds][s] = run(make_method(search_space_id, ds, s), search_space_id, ds, s, n_trials)
        return out


def save_results(results: Mapping, path: str | Path) -> None:
    """Write ``{space: {dataset: {seed: [incumbents]}}}`` as JSON (HPO-B's results layout)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {sp: {ds: {s: [float(v) for v in curve] for s, curve in seeds.items()} for ds, seeds in tasks.items()}
             for sp, tasks in results.items()}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(clean))
    tmp.replace(path)


def load_results(path: str | Path) -> dict:
    with open(path) as f:
        results = json.load(f)
    for sp, tasks in results.items():
        for ds, seeds in tasks.items():
            for s, curve in seeds.items():
                finite = all(isinstance(v, (int, float)) and math.isfinite(v) for v in curve)
                if not isinstance(curve, list) or not finite:
                    raise ValueError(f"{path}: results[{sp!r}][{ds!r}][{s!r}] must be a list of finite numbers")
    return results


def merge_results(*parts: Mapping) -> dict:
    """Merge result dicts; the same (space, dataset, seed) twice is an error."""
    out: dict = {}
    for part in parts:
        for sp, tasks in part.items():
            for ds, seeds in tasks.items():
                for s, curve in seeds.items():
                    slot = out.setdefault(sp, {}).setdefault(ds, {})
                    if s in slot:
                        raise ValueError(f"results for space {sp!r}, dataset {ds!r}, seed {s!r} given twice")
                    slot[s] = list(curve)
    return out
