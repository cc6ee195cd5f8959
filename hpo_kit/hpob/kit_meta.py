"""The kit's own meta-dataset in HPO-B's layout, assembled from the measured shards.

NOT HPO-B's numbers: HPO-B (Pineda Arango et al. 2021) is OpenML runs of mlr's xgboost; this is the
kit's re-measurement of the same 16-column XGBoost search space 5971 (CPU-sized ranges, see
:mod:`hpo_kit.hpob.kit_space`) on offline tasks (MNIST and scikit-learn digit pairs, digits,
breast cancer, wine; see :mod:`hpo_kit.hpob.measure_kit_meta`). Use it to exercise HPO-B's protocol
where HPO-B's data cannot be downloaded; compare methods with it, never with HPO-B's published curves.

:func:`build_hpob_folder` writes ``meta-train-dataset.json``, ``meta-train-dataset-augmented.json``
(same content: the space is frequent, so HPO-B's augmented file equals its train file for it),
``meta-validation-dataset.json``, ``meta-test-dataset.json``, ``bo-initializations.json`` and
``kit-meta-info.json`` (provenance; ``partial`` says whether tasks are still missing). The split of
every task is fixed before measuring, so partial data has the final split's tasks, only fewer.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import warnings
from pathlib import Path

from hpo_kit import paths
from hpo_kit.hpob import folder as hpob_folder
from hpo_kit.hpob.handler import (BO_INITIALIZATIONS, META_TEST, META_TRAIN, META_TRAIN_AUGMENTED, META_VALIDATION,
                                  HPOBHandler)

SHARDS_DIR = Path(__file__).resolve().parent / "data" / "kit_xgb_meta"
NOT_HPOB = ("Kit-measured meta-dataset in HPO-B's layout (XGBoost space 5971 re-measured on offline tasks "
            "with CPU-sized ranges); these are not HPO-B's numbers.")


class PartialMetaDatasetWarning(UserWarning):
    """The kit meta-dataset is missing tasks (the measurement is still running or was stopped)."""


def read_shards(shards_dir: str | Path = SHARDS_DIR) -> list[dict]:
    shards_dir = Path(shards_dir)
    out = []
    for path in sorted(shards_dir.glob("*.json.gz")):
        with gzip.open(path, "rb") as f:
            out.append(json.load(f))
    return out


def _dedupe(X: list, y: list, inits: dict) -> tuple[list, list, dict]:
    """HPO-B drops repeated configurations within a task; initial designs are remapped to the kept rows."""
    first: dict[tuple, int] = {}
    keep, mapping = [], {}
    for i, row in enumerate(X):
        key = tuple(row)
        if key not in first:
            first[key] = len(keep)
            keep.append(i)
        mapping[i] = first[key]
    if len(keep) == len(X):
        return X, y, inits
    new_inits = {s: sorted(set(mapping[i] for i in idx)) for s, idx in inits.items()}
    return [X[i] for i in keep], [y[i] for i in keep], new_inits


def _fingerprint(shards_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(shards_dir.glob("*.json.gz")) + sorted(shards_dir.glob("surrogates/*")):
        h.update(path.name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def status(shards_dir: str | Path = SHARDS_DIR) -> dict:
    """Which planned tasks are measured: ``{"done": [...], "missing": [...], "total": n, "split": {...}}``."""
    from hpo_kit.hpob.measure_kit_meta import N_CONFIGS, all_tasks, split_plan

    tasks = all_tasks()
    plan = split_plan(tasks, N_CONFIGS)
    done = [t.task_id for t in tasks if (Path(shards_dir) / f"{t.task_id}.json.gz").is_file()]
    return {"done": done, "missing": [t.task_id for t in tasks if t.task_id not in set(done)],
            "total": len(tasks), "split": plan}


def _write_surrogates(src: Path, dest: Path, test_tasks: set[str]) -> None:
    """Unpack the shipped surrogates of the finished meta-test tasks into HPO-B's saved-surrogates/."""
    if not src.is_dir():
        return
    stats = {}
    dest.mkdir(parents=True, exist_ok=True)
    for info_path in sorted(src.glob("surrogate-*.info.json")):
        name = info_path.name[: -len(".info.json")]
        model = src / f"{name}.json.gz"
        task = name.split("-", 2)[2]
        if task not in test_tasks or not model.is_file():
            continue
        tmp = dest / f".{name}.json.tmp"
        tmp.write_bytes(gzip.decompress(model.read_bytes()))
        os.replace(tmp, dest / f"{name}.json")
        info = json.loads(info_path.read_text())
        stats[name] = {"y_min": info["y_min"], "y_max": info["y_max"]}
    tmp = dest / ".summary-stats.json.tmp"
    tmp.write_text(json.dumps(stats, indent=1, sort_keys=True))
    os.replace(tmp, dest / "summary-stats.json")


def build_hpob_folder(out_dir: str | Path | None = None, shards_dir: str | Path = SHARDS_DIR, *,
                      require_complete: bool = False, warn_partial: bool = True) -> Path:
    """Assemble the finished shards into ``<out_dir>/hpob-data`` (returned) and ``<out_dir>/saved-surrogates``.

    ``out_dir`` defaults to the kit's data cache (``hpo_kit.paths.data_dir("kit_xgb_meta")``); the folders
    are rebuilt only when the shards changed. Surrogates exist for the meta-test tasks whose surrogate
    the measurement has fitted (HPOBHandler finds the sibling ``saved-surrogates/`` by itself). With
    tasks missing, ``require_complete=True`` raises ValueError; otherwise a :class:`PartialMetaDatasetWarning` is issued and ``kit-meta-info.json`` says
    ``"partial": true`` (the handler exposes it as ``handler.info``).
    """
    shards_dir = Path(shards_dir)
    if not shards_dir.is_dir():
        raise FileNotFoundError(f"shards_dir {shards_dir} is not a folder")
    base = Path(out_dir) if out_dir is not None else paths.data_dir("kit_xgb_meta")
    out, surr_out = base / "hpob-data", base / "saved-surrogates"
    st = status(shards_dir)
    if not st["done"]:
        raise ValueError(f"no measured tasks in {shards_dir}; run `python -m hpo_kit.hpob.measure_kit_meta`")
    partial = bool(st["missing"])
    if partial and require_complete:
        raise ValueError(f"kit meta-dataset is partial: {len(st['done'])} of {st['total']} tasks measured; "
                         f"missing {st['missing'][:10]}{' ...' if len(st['missing']) > 10 else ''}")
    if partial and warn_partial:
        warnings.warn(f"kit meta-dataset is partial: {len(st['done'])} of {st['total']} tasks measured "
                      f"(resume with `python -m hpo_kit.hpob.measure_kit_meta`)", PartialMetaDatasetWarning,
                      stacklevel=2)
    fingerprint = _fingerprint(shards_dir)
    if hpob_folder.is_current(out, "shards_sha256", fingerprint):
        return out
    splits: dict[str, dict] = {"meta-train": {}, "meta-validation": {}, "meta-test": {}}
    inits: dict = {}
    environments, tasks_info = set(), {}
    space = None
    for shard in read_shards(shards_dir):
        space = shard["search_space_id"]
        X, y, task_inits = _dedupe(shard["X"], shard["y"], shard["bo_initializations"])
        splits[shard["split"]].setdefault(space, {})[shard["task_id"]] = {"X": X, "y": y}
        inits.setdefault(space, {})[shard["task_id"]] = task_inits
        env = shard["environment"]
        environments.add(json.dumps({"cpu": env["cpu"], "packages": env["packages"]}, sort_keys=True))
        tasks_info[shard["task_id"]] = {"split": shard["split"], "n": len(X), "data": shard["data"],
                                        "seeds": shard["seeds"]}
    for split in splits.values():
        split.setdefault(space, {})
    files = {META_TRAIN: splits["meta-train"], META_TRAIN_AUGMENTED: splits["meta-train"],
             META_VALIDATION: splits["meta-validation"], META_TEST: splits["meta-test"],
             BO_INITIALIZATIONS: inits}
    info = {"source": NOT_HPOB, "partial": partial, "tasks_done": len(st["done"]), "tasks_total": st["total"],
            "missing": st["missing"], "search_space_id": space,
            "counts": {k: len(v.get(space, {})) for k, v in splits.items()},
            "planned_counts": {k: sum(1 for s in st["split"].values() if s == k) for k in splits},
            "environments": [json.loads(e) for e in sorted(environments)], "tasks": tasks_info,
            "regenerate": "python -m hpo_kit.hpob.measure_kit_meta", "shards_sha256": fingerprint}
    _write_surrogates(shards_dir / "surrogates", surr_out, set(splits["meta-test"].get(space, {})))
    info["surrogates"] = sorted(p.stem for p in surr_out.glob("surrogate-*.json")) if surr_out.is_dir() else []
    return hpob_folder.write_folder(out, files, info)  # the info file last: an interrupted build is redone


def kit_handler(mode: str = "v3", out_dir: str | Path | None = None, shards_dir: str | Path = SHARDS_DIR,
                *, require_complete: bool = False, surrogates_dir: str | Path | None = None) -> HPOBHandler:
    """An :class:`HPOBHandler` on the kit meta-dataset (built on demand)."""
    folder = build_hpob_folder(out_dir, shards_dir, require_complete=require_complete)
    return HPOBHandler(folder, mode=mode, surrogates_dir=surrogates_dir)


BENCHMARK_SOURCES = ("auto", "hpob", "kit")


def open_benchmark(source: str = "auto", *, mode: str = "v3", hpob_root: str | Path | None = None,
                   kit_out_dir: str | Path | None = None, shards_dir: str | Path = SHARDS_DIR,
                   require_complete: bool = False) -> HPOBHandler:
    """HPO-B's real data when ``source="hpob"`` (or ``"auto"`` and it is on disk), else the kit meta-dataset.

    The handler gets ``handler.source`` = ``"hpob"`` or ``"kit"`` so results and claims can say which
    numbers they are. ``"hpob"`` without the data raises FileNotFoundError saying how to get it.
    """
    from hpo_kit.hpob.download import default_root, locate_hpob

    if source not in BENCHMARK_SOURCES:
        raise ValueError(f"source must be one of {list(BENCHMARK_SOURCES)}; got {source!r}")
    if source in ("auto", "hpob"):
        found = locate_hpob(hpob_root)
        if found is not None:
            handler = HPOBHandler(found[0], mode=mode, surrogates_dir=found[1])
            handler.source = "hpob"
            return handler
        if source == "hpob":
            raise FileNotFoundError(
                f"HPO-B's data not found (looked in {hpob_root or default_root()} and the current folder). "
                f"Download it (about 410 MB) with `python -m hpo_kit.hpob.download`, or set HPO_KIT_HPOB to a "
                f"folder holding hpob-data/ and saved-surrogates/.")
    handler = kit_handler(mode=mode, out_dir=kit_out_dir, shards_dir=shards_dir, require_complete=require_complete)
    handler.source = "kit"
    return handler
