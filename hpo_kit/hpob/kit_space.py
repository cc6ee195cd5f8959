"""The kit's version of HPO-B's XGBoost search space 5971 (mlr's ``classif.xgboost`` flow on OpenML).

HPO-B's space 5971 has 16 columns after its preprocessing (``hpob-data/meta-dataset-descriptors.json``
in the HPO-B repository): missing values imputed with 0 plus a ``.na`` indicator column, ``eta``,
``min_child_weight``, ``lambda`` and ``alpha`` log-transformed, the categorical ``booster`` one-hot
encoded, then every column min-max scaled to [0, 1] over the whole space. The tree-only parameters
(``max_depth``, ``min_child_weight``, ``colsample_bytree``, ``colsample_bylevel``) are missing when the
booster is ``gblinear``; HPO-B's ``booster.ohe._INVALID`` column is the rows without a booster value,
which in mlr means the default ``gbtree``.

Ranges here (chosen to fit a CPU; HPO-B's recorded ranges in brackets):

=====================  =====================================  ============================
column                 kit range (sampled)                    HPO-B 5971 range
=====================  =====================================  ============================
eta                    log-uniform [2^-10, 1]                 [0.00098, 0.99988]
max_depth              integer uniform 1..15 (gbtree)         0..15 (0 = missing)
min_child_weight       log-uniform [1, 128] (gbtree)          [0, 128]
subsample              uniform [0.1, 1]                       [0.1, 1]
colsample_bytree       uniform [0.1, 1] (gbtree)              [0, 1] (0 = missing)
colsample_bylevel      uniform [0.1, 1] (gbtree)              [0, 1] (0 = missing)
lambda, alpha          log-uniform [2^-10, 2^10]              [0.00098, 1024]
nrounds                integer log-uniform 1..300             0..5000   <- the CPU cut
booster                gbtree / gblinear, probability 1/2     43 % / 57 %
=====================  =====================================  ============================

``nrounds.na`` is kept as a constant-0 column so the layout has HPO-B's 16 columns (HPO-B: 0.02 %
missing). Scaling to [0, 1] uses the fixed bounds of the transformed values above, not the observed
min/max, so a partially measured meta-dataset has the same encoding as the finished one; missing
values are imputed with 0 before the log with HPO-B's floor: log(1e-4) for ``min_child_weight``
(HPO-B's minimum of that column is log(1e-4) = -9.21). ``nrounds`` is sampled log-uniformly (HPO-B's
runs are uniform up to 5000) because the cheap end matters on a 300-round budget. Models are trained
with ``base_score`` 0.5 (the default of the xgboost versions behind HPO-B's runs; xgboost >= 2
estimates it from the labels). Many configurations (large ``alpha``/``lambda``, mostly with gblinear)
predict one class only; as in HPO-B's data, that mass at the bottom is part of the landscape.
"""
from __future__ import annotations

import math

import numpy as np

COLUMNS = ("eta", "max_depth", "max_depth.na", "min_child_weight", "min_child_weight.na", "subsample",
           "colsample_bytree", "colsample_bytree.na", "colsample_bylevel", "colsample_bylevel.na",
           "lambda", "alpha", "nrounds", "nrounds.na", "booster.ohe._INVALID", "booster.ohe._gblinear")
SPACE_ID = "5971"
LOG_FLOOR = 1e-4  # imputed 0 is logged as log(1e-4), as in HPO-B's min_child_weight column
ETA = (2.0 ** -10, 1.0)
MAX_DEPTH = (1, 15)
MIN_CHILD_WEIGHT = (1.0, 128.0)
SUBSAMPLE = (0.1, 1.0)
COLSAMPLE = (0.1, 1.0)
REG = (2.0 ** -10, 2.0 ** 10)
NROUNDS = (1, 300)
# Bounds of the transformed value of each column, for the [0, 1] scaling.
_SCALE = {
    "eta": (math.log(ETA[0]), math.log(ETA[1])),
    "max_depth": (0.0, float(MAX_DEPTH[1])),
    "min_child_weight": (math.log(LOG_FLOOR), math.log(MIN_CHILD_WEIGHT[1])),
    "subsample": (0.0, 1.0),
    "colsample_bytree": (0.0, 1.0),
    "colsample_bylevel": (0.0, 1.0),
    "lambda": (math.log(REG[0]), math.log(REG[1])),
    "alpha": (math.log(REG[0]), math.log(REG[1])),
    "nrounds": (0.0, float(NROUNDS[1])),
}
RANGES_DOC = {
    "eta": "log-uniform [2^-10, 1]", "max_depth": "integer 1..15 (gbtree only)",
    "min_child_weight": "log-uniform [1, 128] (gbtree only)", "subsample": "uniform [0.1, 1]",
    "colsample_bytree": "uniform [0.1, 1] (gbtree only)", "colsample_bylevel": "uniform [0.1, 1] (gbtree only)",
    "lambda": "log-uniform [2^-10, 2^10]", "alpha": "log-uniform [2^-10, 2^10]",
    "nrounds": "integer log-uniform 1..300 (HPO-B: up to 5000)", "booster": "gbtree | gblinear, p = 1/2",
}


def sample_configs(n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` raw configurations (xgboost parameter values; None = missing) drawn from the kit space."""
    def loguni(lo: float, hi: float) -> float:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    configs = []
    for _ in range(n):
        tree = bool(rng.random() < 0.5)
        c = {
            "booster": "gbtree" if tree else "gblinear",
            "eta": loguni(*ETA),
            "max_depth": int(rng.integers(MAX_DEPTH[0], MAX_DEPTH[1] + 1)) if tree else None,
            "min_child_weight": loguni(*MIN_CHILD_WEIGHT) if tree else None,
            "subsample": float(rng.uniform(*SUBSAMPLE)),
            "colsample_bytree": float(rng.uniform(*COLSAMPLE)) if tree else None,
            "colsample_bylevel": float(rng.uniform(*COLSAMPLE)) if tree else None,
            "lambda": loguni(*REG),
            "alpha": loguni(*REG),
            "nrounds": int(round(loguni(NROUNDS[0], NROUNDS[1] + 0.499))),
        }
        c["nrounds"] = min(max(c["nrounds"], NROUNDS[0]), NROUNDS[1])
        configs.append(c)
    return configs


def encode(config: dict) -> list[float]:
    """HPO-B's 16-column encoding of one raw configuration, scaled to [0, 1]."""
    def scaled(name: str, value: float) -> float:
        lo, hi = _SCALE[name]
        return float(min(max((value - lo) / (hi - lo), 0.0), 1.0))

    def logged(value: float | None) -> float:
        return math.log(LOG_FLOOR if value is None else max(value, LOG_FLOOR))

    row = [
        scaled("eta", math.log(config["eta"])),
        scaled("max_depth", 0.0 if config["max_depth"] is None else config["max_depth"]),
        float(config["max_depth"] is None),
        scaled("min_child_weight", logged(config["min_child_weight"])),
        float(config["min_child_weight"] is None),
        scaled("subsample", config["subsample"]),
        scaled("colsample_bytree", 0.0 if config["colsample_bytree"] is None else config["colsample_bytree"]),
        float(config["colsample_bytree"] is None),
        scaled("colsample_bylevel", 0.0 if config["colsample_bylevel"] is None else config["colsample_bylevel"]),
        float(config["colsample_bylevel"] is None),
        scaled("lambda", math.log(config["lambda"])),
        scaled("alpha", math.log(config["alpha"])),
        scaled("nrounds", config["nrounds"]),
        0.0,
        float(config["booster"] == "gbtree"),
        float(config["booster"] == "gblinear"),
    ]
    return row


def xgb_params(config: dict, seed: int, n_classes: int) -> tuple[dict, int]:
    """xgboost ``train`` parameters (one thread) and number of rounds for a raw configuration."""
    # base_score 0.5: the default of the xgboost versions behind HPO-B's OpenML runs; xgboost >= 2
    # estimates it from the labels, which turns every tiny-eta model into a constant predictor.
    params = {"booster": config["booster"], "eta": config["eta"], "subsample": config["subsample"],
              "lambda": config["lambda"], "alpha": config["alpha"], "nthread": 1, "seed": seed,
              "verbosity": 0, "base_score": 0.5}
    if config["booster"] == "gbtree":
        params.update(max_depth=config["max_depth"], min_child_weight=config["min_child_weight"],
                      colsample_bytree=config["colsample_bytree"], colsample_bylevel=config["colsample_bylevel"],
                      tree_method="hist")
    else:
        params.pop("subsample")  # gblinear has no row subsampling (mlr records it anyway)
    if n_classes == 2:
        params.update(objective="binary:logistic", eval_metric="error")
    else:
        params.update(objective="multi:softprob", num_class=n_classes, eval_metric="merror")
    return params, int(config["nrounds"])
