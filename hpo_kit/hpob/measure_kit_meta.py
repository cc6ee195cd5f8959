"""Measure the kit's own HPO-B-format meta-dataset: XGBoost space 5971 on offline classification tasks.

These are NOT HPO-B's numbers. HPO-B's space 5971 holds OpenML runs of mlr's xgboost on OpenML tasks;
this script re-creates the *shape* of that benchmark (same 16 columns, see :mod:`hpo_kit.hpob.kit_space`
for the CPU-sized ranges) on tasks that exist offline, evaluated here:

* 45 one-vs-one MNIST digit pairs: 1,000 training images of the pair (stratified subsample of the
  official training set) and 1,000 test images (of the official test set), 2x2 average-pooled to
  14 x 14 = 196 features scaled to [0, 1];
* 45 one-vs-one pairs of scikit-learn's 8 x 8 digits (25 % train / 75 % test, stratified), the
  10-class digits task, breast cancer and wine (50 / 50, stratified).

The response is held-out accuracy on the task's test part. Each task gets its own random
configurations (like OpenML runs), 400 by default, a fixed seed per task. The meta-train /
meta-validation / meta-test split follows HPO-B's rule (``meta-dataset-creation/data_splitting.py``):
tasks sorted by number of evaluations, the first ceil(80 %) meta-train, up to ceil(90 %) validation,
the rest test. All tasks get the same number of configurations, so HPO-B's sort only breaks ties; the
tie order here is a fixed permutation of the task list (seeded), decided before measuring so the split
does not depend on which tasks are finished. Test tasks are measured first, then validation, then
meta-train, so partial data is usable early.

Run (resumable; a finished task is one shard, written atomically, and skipped next time)::

    HPO_KIT_DATA=<folder with the four MNIST .gz files> nohup setsid nice -n 10 .venv/bin/python -m hpo_kit.hpob.measure_kit_meta \
        > measure_kit_meta.log 2>&1 &

Shards go to ``hpo_kit/hpob/data/kit_xgb_meta/<task>.json.gz`` with provenance (data identity and
checksums, seeds, library versions, CPU; never a machine path). :func:`hpo_kit.hpob.kit_meta.build_hpob_folder`
assembles them into HPO-B's layout. After each meta-test task its XGBoost surrogate is fitted with
HPO-B's recipe and stored (gzipped) in ``surrogates/``, for the continuous protocol.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import platform
import sys
import time
import zlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hpo_kit.hpob import kit_space  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data" / "kit_xgb_meta"
BASE_SEED = 5971
N_CONFIGS = 400
N_INIT = 5
N_SEEDS = 5
MNIST_N_TRAIN = 1000
MNIST_N_TEST = 1000
FORMAT_VERSION = 2  # 2: base_score 0.5, digit pairs 25/75


@dataclass(frozen=True)
class TaskSpec:
    task_id: str
    family: str  # "mnist-pair", "digits-pair", "digits", "breast_cancer", "wine"
    classes: tuple[int, ...] = ()


def all_tasks() -> list[TaskSpec]:
    tasks = [TaskSpec(f"mnist-{a}v{b}", "mnist-pair", (a, b)) for a in range(10) for b in range(a + 1, 10)]
    tasks += [TaskSpec(f"digits-{a}v{b}", "digits-pair", (a, b)) for a in range(10) for b in range(a + 1, 10)]
    tasks += [TaskSpec("digits", "digits"), TaskSpec("breast_cancer", "breast_cancer"), TaskSpec("wine", "wine")]
    return tasks


def split_plan(tasks: list[TaskSpec], n_configs: int = N_CONFIGS) -> dict[str, str]:
    """task_id -> "meta-train" | "meta-validation" | "meta-test" by HPO-B's rule (see module doc)."""
    order = np.random.default_rng(BASE_SEED).permutation(len(tasks))
    ordered = [tasks[i].task_id for i in order]
    sizes = np.full(len(ordered), n_configs)
    sorted_ids = [ordered[i] for i in np.argsort(sizes, kind="stable")]
    n = len(sorted_ids)
    i0, i1 = int(math.ceil(0.8 * n)), int(math.ceil(0.9 * n))
    has_test = n > 10 and sizes[0] > 99  # HPO-B's condition for a space to get a test split
    plan = {}
    for i, tid in enumerate(sorted_ids):
        if not has_test:
            plan[tid] = "meta-train"
        else:
            plan[tid] = "meta-train" if i < i0 else ("meta-validation" if i < i1 else "meta-test")
    return plan


def _task_seed(task_id: str) -> int:
    return (BASE_SEED * 1_000_003 + zlib.crc32(task_id.encode())) % (2 ** 31)


def _sha256(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _pool(images: np.ndarray) -> np.ndarray:
    return images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(images), -1).astype(np.float64) / 255.0


_MNIST_CACHE: list = []


def load_task(spec: TaskSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Train / test arrays of a task (labels 0..k-1) and its data identity."""
    from hpo_kit.data.stratify import stratified_order

    seed = _task_seed(spec.task_id)
    if spec.family == "mnist-pair":
        from hpo_kit.data.mnist import MNIST_MD5, load_mnist

        if not _MNIST_CACHE:
            _MNIST_CACHE.append(load_mnist(download=False, allow_fallback=False))
        d = _MNIST_CACHE[0]
        a, b = spec.classes
        tr = np.flatnonzero((d.train_labels == a) | (d.train_labels == b))
        te = np.flatnonzero((d.test_labels == a) | (d.test_labels == b))
        tr = tr[stratified_order(d.train_labels[tr], seed)[:MNIST_N_TRAIN]]
        te = te[stratified_order(d.test_labels[te], seed + 1)[:MNIST_N_TEST]]
        Xtr, Xte = _pool(d.train_images[tr]), _pool(d.test_images[te])
        ytr, yte = (d.train_labels[tr] == b).astype(int), (d.test_labels[te] == b).astype(int)
        identity = {"dataset": "MNIST (official IDX files)", "files_md5": dict(MNIST_MD5),
                    "classes": [a, b], "label_1": b, "train_indices_sha256": _sha256(tr.astype(np.int64)),
                    "test_indices_sha256": _sha256(te.astype(np.int64)),
                    "preprocessing": "2x2 average pooling to 14x14, /255",
                    "n_train": int(len(tr)), "n_test": int(len(te))}
        return Xtr, ytr, Xte, yte, identity

    import sklearn
    from sklearn import datasets

    loader = {"digits-pair": datasets.load_digits, "digits": datasets.load_digits,
              "breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[spec.family]
    bunch = loader()
    X_all, y_all = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    identity = {"dataset": f"scikit-learn {loader.__name__}", "sklearn": sklearn.__version__,
                "data_sha256": _sha256(X_all, y_all)}
    if spec.family == "digits-pair":
        a, b = spec.classes
        keep = np.flatnonzero((y_all == a) | (y_all == b))
        X_all, y_all = X_all[keep], (y_all[keep] == b).astype(np.int64)
        identity.update(classes=[a, b], label_1=b)
    order = stratified_order(y_all, seed)
    # Digit pairs train on a quarter (about 90 images): on half of them most pairs are solved by
    # many configurations, and ties at the maximum end HPO-B runs after a few trials.
    n_train = len(order) // 4 if spec.family == "digits-pair" else len(order) // 2
    tr, te = np.sort(order[:n_train]), np.sort(order[n_train:])
    identity.update(split="25/75 stratified" if spec.family == "digits-pair" else "50/50 stratified",
                    train_indices_sha256=_sha256(tr.astype(np.int64)),
                    n_train=int(len(tr)), n_test=int(len(te)))
    return X_all[tr], y_all[tr], X_all[te], y_all[te], identity


def environment() -> dict:
    from hpo_kit.environment_info import cpu_model

    versions = {}
    for name in ("xgboost", "numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu_model(),
            "packages": versions, "xgboost_threads": 1}


def measure_task(spec: TaskSpec, split: str, n_configs: int = N_CONFIGS) -> dict:
    import xgboost as xgb

    Xtr, ytr, Xte, yte, identity = load_task(spec)
    n_classes = int(max(ytr.max(), yte.max()) + 1)
    seed = _task_seed(spec.task_id)
    rng = np.random.default_rng(seed)
    configs = kit_space.sample_configs(n_configs, rng)
    dtrain, dtest = xgb.DMatrix(Xtr, label=ytr, nthread=1), xgb.DMatrix(Xte, nthread=1)
    X, y, seconds = [], [], []
    start = time.time()
    for i, config in enumerate(configs):
        params, rounds = kit_space.xgb_params(config, seed=i, n_classes=n_classes)
        t = time.perf_counter()
        booster = xgb.train(params, dtrain, rounds)
        prob = booster.predict(dtest)
        pred = (prob > 0.5).astype(int) if n_classes == 2 else prob.argmax(axis=1)
        seconds.append(time.perf_counter() - t)
        X.append([round(v, 6) for v in kit_space.encode(config)])
        y.append([float(np.mean(pred == yte))])
    init_rng = np.random.default_rng([seed, 1])
    inits = {f"test{s}": sorted(int(i) for i in init_rng.choice(n_configs, N_INIT, replace=False))
             for s in range(N_SEEDS)}
    return {
        "format": FORMAT_VERSION, "search_space_id": kit_space.SPACE_ID, "task_id": spec.task_id,
        "split": split, "X": X, "y": y, "columns": list(kit_space.COLUMNS), "configs": configs,
        "bo_initializations": inits, "n_classes": n_classes, "data": identity,
        "seeds": {"task_seed": seed, "config_sampling": f"numpy default_rng({seed})",
                  "xgboost_seed": "configuration index", "initial_designs": f"numpy default_rng([{seed}, 1])"},
        "ranges": kit_space.RANGES_DOC, "response": "held-out accuracy",
        "eval_seconds_total": round(time.time() - start, 3),
        "eval_seconds_median": round(float(np.median(seconds)), 5),
        "environment": environment(),
        "note": "Measured by hpo-repro-kit (python -m hpo_kit.hpob.measure_kit_meta); not HPO-B's numbers.",
    }


def write_shard(shard: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{shard['task_id']}.json.gz"
    tmp = out_dir / f".{shard['task_id']}.json.gz.tmp"
    # mtime=0: the same measurement gives the same bytes.
    tmp.write_bytes(gzip.compress(json.dumps(shard, separators=(",", ":")).encode(), mtime=0))
    os.replace(tmp, path)
    return path


def ensure_surrogate(task_id: str, out_dir: Path) -> Path:
    """Fit a finished meta-test task's surrogate with HPO-B's recipe (hpo_kit.hpob.surrogates), once.

    Stored gzipped next to the shards (``surrogates/surrogate-5971-<task>.json.gz`` and ``.info.json``)
    so the continuous protocol on the kit data needs no minute-long fit per task at run time.
    """
    from hpo_kit.hpob.handler import surrogate_name
    from hpo_kit.hpob.surrogates import fit_surrogate

    folder = out_dir / "surrogates"
    name = surrogate_name(kit_space.SPACE_ID, task_id)
    path = folder / f"{name}.json.gz"
    if path.is_file() and (folder / f"{name}.info.json").is_file():
        return path
    with gzip.open(out_dir / f"{task_id}.json.gz", "rb") as f:
        shard = json.load(f)
    booster, info = fit_surrogate(np.asarray(shard["X"]), np.asarray(shard["y"]), nthread=1)
    folder.mkdir(parents=True, exist_ok=True)
    raw = booster.save_raw(raw_format="json")
    tmp = folder / f".{name}.json.gz.tmp"
    tmp.write_bytes(gzip.compress(bytes(raw), mtime=0))
    os.replace(tmp, path)
    info["recipe"] = "HPO-B continuous/train-surrogates.py (hpo_kit.hpob.surrogates), base_score 0.5"
    tmp = folder / f".{name}.info.json.tmp"
    tmp.write_text(json.dumps(info, indent=1, sort_keys=True))
    os.replace(tmp, folder / f"{name}.info.json")
    return path


def measurement_order(tasks: list[TaskSpec], plan: dict[str, str]) -> list[TaskSpec]:
    rank = {"meta-test": 0, "meta-validation": 1, "meta-train": 2}
    return sorted(tasks, key=lambda t: (rank[plan[t.task_id]], tasks.index(t)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="shard folder (default: the kit's data folder)")
    parser.add_argument("--tasks", nargs="*", default=None, help="only these task ids")
    parser.add_argument("--max-tasks", type=int, default=None, help="stop after measuring this many new tasks")
    parser.add_argument("--n-configs", type=int, default=N_CONFIGS, help="configurations per task")
    parser.add_argument("--list", action="store_true", help="print the tasks, their split and status, and exit")
    args = parser.parse_args(argv)
    if args.n_configs < 10:
        parser.error(f"--n-configs must be >= 10, got {args.n_configs}")
    tasks = all_tasks()
    plan = split_plan(tasks, args.n_configs)
    known = {t.task_id for t in tasks}
    if args.tasks is not None:
        unknown = sorted(set(args.tasks) - known)
        if unknown:
            parser.error(f"unknown --tasks {unknown}; allowed: {sorted(known)}")
    todo = [t for t in measurement_order(tasks, plan) if args.tasks is None or t.task_id in args.tasks]
    if args.list:
        for t in todo:
            done = (args.out / f"{t.task_id}.json.gz").is_file()
            print(f"{t.task_id:16s} {plan[t.task_id]:16s} {'done' if done else 'todo'}")
        n_done = sum((args.out / f"{t.task_id}.json.gz").is_file() for t in todo)
        print(f"{n_done}/{len(todo)} tasks measured")
        return 0
    measured = 0
    for t in todo:
        if (args.out / f"{t.task_id}.json.gz").is_file():
            if plan[t.task_id] == "meta-test" and args.n_configs == N_CONFIGS:
                ensure_surrogate(t.task_id, args.out)  # resumes a run stopped between shard and surrogate
            continue
        if args.max_tasks is not None and measured >= args.max_tasks:
            break
        t0 = time.time()
        shard = measure_task(t, plan[t.task_id], args.n_configs)
        write_shard(shard, args.out)
        measured += 1
        if plan[t.task_id] == "meta-test":
            ensure_surrogate(t.task_id, args.out)
        n_done = sum((args.out / f"{x.task_id}.json.gz").is_file() for x in tasks)
        print(f"{time.strftime('%H:%M:%S')} {t.task_id} ({plan[t.task_id]}) {time.time() - t0:.1f}s "
              f"acc {min(v[0] for v in shard['y']):.3f}..{max(v[0] for v in shard['y']):.3f}; "
              f"{n_done}/{len(tasks)} tasks done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
