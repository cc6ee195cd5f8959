"""XGBoost on tabular data with the paper's 10-hyperparameter space (Wu et al. 2020).

Space (:func:`xgboost_space`; bounds as the paper lists them, types and scales the kit's choice):

=====================  ===================  ====================================================
hyperparameter         range                kit's choice
=====================  ===================  ====================================================
``max_depth``          1 - 25               integer
``learning_rate``      0.001 - 0.1          float, log scale
``n_estimators``       50 - 1200            integer (number of boosting rounds)
``gamma``              0.05 - 0.9           float (XGBoost's ``min_split_loss``)
``min_child_weight``   1 - 9                integer
``subsample``          0.5 - 1              float
``colsample_bytree``   0.5 - 1              float
``colsample_bylevel``  0.5 - 1              float
``reg_alpha``          0.1 - 0.9            float (``alpha``, L1)
``reg_lambda``         0.01 - 0.1           float (``lambda``, L2)
=====================  ===================  ====================================================

:data:`XGB_HP_ORDER` lists them in this (the paper's) order; ConfigSpace keeps them alphabetically.

Training: ``xgboost.train`` (native API) with ``nthread=1`` (one thread per evaluation, the kit's
rule for parallel workers), ``tree_method="hist"``, ``seed`` = the evaluation seed (so the same
config and seed give the same model; subsampling is the only randomness), objective
``multi:softprob`` (``binary:logistic`` for two classes). Loss = 1 - validation accuracy;
``info["test_error"]`` = 1 - test accuracy of the same model.

``max_n_estimators`` (task option): a profile may cap the number of boosting rounds to keep
evaluations fast. The space stays the paper's (``n_estimators`` 50 - 1200, so every searcher and
the RL agent see the same 10 dimensions), but a configuration is trained with
``min(n_estimators, max_n_estimators)`` rounds; ``info["n_estimators_trained"]`` records it and
the task's description says so. Above the cap the objective is flat in ``n_estimators``.

Fidelity: **training-set fraction**, not ``n_estimators``. ``n_estimators`` is one of the paper's
searched hyperparameters, so using it as the resource would take it out of the space (or make
the scheduler overrule the searcher's value); a fraction of the training rows keeps the paper's
space intact and shrinks the cost of every configuration alike. Resource ``r`` in
``[min_resource, max_resource]`` (defaults 1 and 27, so eta = 3 gives 1/27, 1/9, 1/3, 1) trains on
the first ``max(ceil(n_train * r / max_resource), 2 * n_classes)`` rows of a stratified order of
the training split (:func:`hpo_kit.data.stratify.stratified_order` with the split seed), so every
subset is stratified and nested in the larger ones. Validation and test sets never shrink. Each
evaluation trains from scratch (a trial continued to a larger fraction is retrained;
``previous_resource`` is accepted and ignored, ``cost`` is the full training time).

Default configuration (:data:`XGB_LIBRARY_DEFAULTS`): XGBoost's own defaults (max_depth 6,
learning_rate 0.3, 100 rounds as in the scikit-learn wrapper, gamma 0, min_child_weight 1,
subsample and colsample_* 1, reg_alpha 0, reg_lambda 1). Four lie outside the paper's space;
``task.default_config()`` moves them to the nearest bound (learning_rate 0.1, gamma 0.05,
reg_alpha 0.1, reg_lambda 0.1) so it is a valid point of the space, and
``task.library_default_config()`` returns the untouched library defaults (the objective
evaluates those too: it does not require a configuration to lie inside the space).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace, Float, Integer

from hpo_kit.data.stratify import stratified_order
from hpo_kit.tasks.tabular_data import DataSpec, TabularData, load_tabular
from hpo_kit.trial import Evaluation

#: the paper's order of the 10 hyperparameters (as listed in its XGBoost space)
XGB_HP_ORDER: tuple[str, ...] = ("max_depth", "learning_rate", "n_estimators", "gamma", "min_child_weight",
                                 "subsample", "colsample_bytree", "colsample_bylevel", "reg_alpha", "reg_lambda")
#: (lower, upper, integer?, log?) of each hyperparameter
XGB_BOUNDS: dict[str, tuple[float, float, bool, bool]] = {
    "max_depth": (1, 25, True, False),
    "learning_rate": (0.001, 0.1, False, True),
    "n_estimators": (50, 1200, True, False),
    "gamma": (0.05, 0.9, False, False),
    "min_child_weight": (1, 9, True, False),
    "subsample": (0.5, 1.0, False, False),
    "colsample_bytree": (0.5, 1.0, False, False),
    "colsample_bylevel": (0.5, 1.0, False, False),
    "reg_alpha": (0.1, 0.9, False, False),
    "reg_lambda": (0.01, 0.1, False, False),
}
#: XGBoost's library defaults for the 10 hyperparameters (n_estimators: the sklearn wrapper's 100)
XGB_LIBRARY_DEFAULTS: dict[str, Any] = {
    "max_depth": 6, "learning_rate": 0.3, "n_estimators": 100, "gamma": 0.0, "min_child_weight": 1,
    "subsample": 1.0, "colsample_bytree": 1.0, "colsample_bylevel": 1.0, "reg_alpha": 0.0, "reg_lambda": 1.0,
}


def in_space_defaults() -> dict[str, Any]:
    """:data:`XGB_LIBRARY_DEFAULTS` moved to the nearest bound of the paper's space."""
    out = {}
    for name, value in XGB_LIBRARY_DEFAULTS.items():
        lower, upper, is_int, _ = XGB_BOUNDS[name]
        clipped = min(max(value, lower), upper)
        out[name] = int(clipped) if is_int else float(clipped)
    return out


def xgboost_space(seed: int | None = None) -> ConfigurationSpace:
    """The paper's 10-hyperparameter XGBoost space (module table); defaults = :func:`in_space_defaults`."""
    defaults = in_space_defaults()
    space = ConfigurationSpace(name="xgboost_wu2020", seed=seed)
    for name in XGB_HP_ORDER:
        lower, upper, is_int, log = XGB_BOUNDS[name]
        if is_int:
            space.add(Integer(name, (int(lower), int(upper)), default=int(defaults[name]), log=log))
        else:
            space.add(Float(name, (float(lower), float(upper)), default=float(defaults[name]), log=log))
    return space


def _accuracy(booster: Any, X: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    import xgboost as xgb

    p = booster.predict(xgb.DMatrix(X, nthread=1))
    pred = (p > 0.5).astype(np.int64) if n_classes == 2 else p.argmax(axis=1)
    return float((pred == y).mean())


@dataclass
class XGBoostObjective:
    """Train XGBoost on a stratified fraction ``resource / max_resource`` of the training split.

    Loss = 1 - validation accuracy. Data (``data_spec``) is loaded lazily once per process, so the
    object stays small to pickle for worker processes.
    """

    data_spec: DataSpec
    space: ConfigurationSpace = field(default_factory=xgboost_space)
    min_resource: int = 1
    max_resource: int = 27
    max_n_estimators: int | None = None  # cap on boosting rounds (None: the configuration's n_estimators)

    def data(self) -> TabularData:
        return load_tabular(self.data_spec)

    def train_rows(self, resource: int) -> np.ndarray:
        """Indices (into the training split) used at ``resource``: a prefix of a stratified order."""
        data = self.data()
        order = stratified_order(data.y_train, self.data_spec.seed)
        n = len(order)
        k = max(math.ceil(n * resource / self.max_resource), 2 * data.n_classes)
        return order[:min(k, n)]

    def params(self, config: dict[str, Any], seed: int, n_classes: int) -> tuple[dict[str, Any], int]:
        """XGBoost parameters and the number of boosting rounds for ``config``."""
        missing = sorted(set(XGB_HP_ORDER) - set(config))
        unknown = sorted(set(config) - set(XGB_HP_ORDER))
        if missing or unknown:
            raise ValueError(f"an XGBoost configuration needs exactly {list(XGB_HP_ORDER)}; "
                             f"missing {missing}, unknown {unknown}")
        params = {
            "max_depth": int(config["max_depth"]), "eta": float(config["learning_rate"]),
            "gamma": float(config["gamma"]), "min_child_weight": float(config["min_child_weight"]),
            "subsample": float(config["subsample"]), "colsample_bytree": float(config["colsample_bytree"]),
            "colsample_bylevel": float(config["colsample_bylevel"]), "alpha": float(config["reg_alpha"]),
            "lambda": float(config["reg_lambda"]),
            "nthread": 1, "seed": int(seed) % (2**31 - 1), "tree_method": "hist", "verbosity": 0,
        }
        if n_classes == 2:
            params["objective"] = "binary:logistic"
        else:
            params.update(objective="multi:softprob", num_class=int(n_classes))
        rounds = int(config["n_estimators"])
        if self.max_n_estimators is not None:
            rounds = min(rounds, int(self.max_n_estimators))
        return params, rounds

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        import xgboost as xgb

        if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)) \
                or not self.min_resource <= resource <= self.max_resource:
            raise ValueError(f"resource must be an integer in [{self.min_resource}, {self.max_resource}], "
                             f"got {resource!r}")
        data = self.data()  # loading is per-process set-up, not part of the cost
        started = time.perf_counter()
        params, rounds = self.params(config, seed, data.n_classes)
        rows = self.train_rows(int(resource))
        dtrain = xgb.DMatrix(data.X_train[rows], label=data.y_train[rows], nthread=1)
        booster = xgb.train(params, dtrain, num_boost_round=rounds)
        val_acc = _accuracy(booster, data.X_val, data.y_val, data.n_classes)
        test_acc = _accuracy(booster, data.X_test, data.y_test, data.n_classes)
        cost = time.perf_counter() - started
        return Evaluation(loss=1.0 - val_acc, cost=cost, info={
            "val_accuracy": val_acc, "test_error": 1.0 - test_acc, "n_estimators_trained": rounds,
            "train_rows": int(len(rows)), "train_fraction": float(resource) / self.max_resource,
            "data": data.source,
        })

    def describe(self) -> dict[str, Any]:
        """What the run-log header records: the data by identity (not how it was fetched), the limits.

        Transport options (download, base_url, timeout) are left out on purpose, so a run that
        downloaded its data can be resumed offline from the cache.
        """
        data = self.data()
        shaping = {k: v for k, v in self.data_spec.options if k in ("max_rows", "n_train", "n_val", "n_test")}
        return {"name": "xgboost", "data": {"kind": self.data_spec.kind, "name": self.data_spec.name,
                                            "seed": self.data_spec.seed, "checksum": data.identity.get("checksum"),
                                            "sizes": data.sizes(), **shaping},
                "min_resource": self.min_resource, "max_resource": self.max_resource,
                "max_n_estimators": self.max_n_estimators}


def build_xgboost_task(name: str, info: Any, seed: int, values: dict[str, Any]):
    """The :class:`~hpo_kit.tasks.base.Task` of an ``xgb_*`` registry entry (options already named)."""
    from hpo_kit.tasks.base import Fidelity, Task, check_int

    cap = check_int(name, "max_n_estimators", values["max_n_estimators"], 1, allow_none=True)
    max_resource = check_int(name, "max_resource", values["max_resource"], 1)
    min_resource = check_int(name, "min_resource", values["min_resource"], 1, max_resource)
    data_options: dict[str, Any] = {}
    if info.data_kind == "mnist":
        n_train = check_int(name, "n_train", values["n_train"], 10, 59_000)
        n_val = check_int(name, "n_val", values["n_val"], 10, 60_000 - n_train)
        n_test = check_int(name, "n_test", values["n_test"], 10, 10_000)
        data_options.update(n_train=n_train, n_val=n_val, n_test=n_test)
    else:
        data_options["max_rows"] = check_int(name, "max_rows", values["max_rows"], 30, allow_none=True)
    if "download" in values:
        if not isinstance(values["download"], bool):
            raise ValueError(f"task {name!r}: option download must be True or False, got {values['download']!r}")
        data_options["download"] = values["download"]
    if info.data_kind == "openml":
        if values["base_url"] is not None and not isinstance(values["base_url"], str):
            raise ValueError(f"task {name!r}: option base_url must be None or a URL string, got {values['base_url']!r}")
        timeout = values["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"task {name!r}: option timeout must be a number of seconds > 0, got {timeout!r}")
        data_options.update(base_url=values["base_url"], timeout=float(timeout))
    spec = DataSpec(info.data_kind, info.data_name, seed, tuple(sorted(data_options.items())))
    objective = XGBoostObjective(spec, space=xgboost_space(), min_resource=min_resource, max_resource=max_resource,
                                 max_n_estimators=cap)
    if info.data_kind == "openml":
        from hpo_kit.tasks.openml import task_error

        try:
            data = objective.data()
        except (OSError, ValueError) as error:
            raise task_error(name, info.data_name, error) from error
    else:
        data = objective.data()  # load now: a data problem shows before any training
    capped = ("" if cap is None else
              f" n_estimators is searched in [50, 1200] as in the paper but trained with at most {cap} boosting "
              f"rounds (capped by this profile: max_n_estimators={cap}).")
    description = (f"{name}: XGBoost (paper's 10-hyperparameter space, nthread=1) on {info.summary}. "
                   f"Data: {data.source}.{capped} Fidelity: training-set fraction resource/{max_resource}, "
                   f"resource in [{min_resource}, {max_resource}] (stratified nested subsets; validation and test "
                   f"sets fixed). Loss = 1 - validation accuracy; test score = test accuracy of the model trained "
                   f"on the training split at full fidelity.")
    identity = dict(data.identity)
    fidelity = Fidelity(f"train_fraction_{max_resource}ths", min_resource, max_resource,
                        f"resource r trains on a stratified r/{max_resource} of the {data.sizes()['train']:,} training rows")
    return Task(name=name, seed=seed, space=objective.space, objective=objective, fidelity=fidelity,
                hp_order=XGB_HP_ORDER, description=description, data=identity,
                options={**values, "max_n_estimators": cap}, _default=in_space_defaults(),
                _library_default=dict(XGB_LIBRARY_DEFAULTS))
