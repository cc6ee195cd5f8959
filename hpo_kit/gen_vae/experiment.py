"""What notebook 05 runs: every method on the same HPO-B tasks, seeds and protocol, resumably.

One run = (method, dataset, seed): a fresh method object, evaluated by
:class:`hpo_kit.hpob.HPOBHandler` (``evaluate_continuous`` or ``evaluate``), giving HPO-B's
``n_trials + 1`` normalised incumbents. Each finished run is written as its own small JSON file
``<out_dir>/<method>/<space>/<dataset>/<seed>.json`` carrying a key of everything it depends on
(method settings, protocol, trials, a checksum of the task's data), so an interrupted experiment
resumes where it stopped and a changed setting reruns only what it affects. Runs are independent;
``n_workers > 1`` spreads them over local processes (fork), each with one torch/BLAS thread.

Results come back in HPO-B's layout per method: ``{method: {space: {dataset: {seed: [incumbents]}}}}``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hpo_kit.progress import show_item
from hpo_kit.validation import check_int

# gen_vae_repairs: the fixed mode's repairs with one decoded candidate, so the kit's own 16-candidate
# scoring rule (not a repair of the challenge code) is an ablation of its own (issue 24)
# optuna_gp: Optuna's GPSampler, the reference the kit's GP-EI is measured against (bench/searcher_quality.py)
METHODS = ("random", "gp_ei", "optuna_gp", "tpe", "transfer", "gen_vae_faithful", "gen_vae_repairs", "gen_vae_fixed")
LABELS = {"random": "random search", "gp_ei": "GP-EI", "optuna_gp": "GP (Optuna's GPSampler)", "tpe": "TPE",
          "transfer": "transfer (meta-train best)",
          "gen_vae_faithful": "GEN-VAE faithful", "gen_vae_repairs": "GEN-VAE repairs only (1 candidate)",
          "gen_vae_fixed": "GEN-VAE fixed"}
PROTOCOLS = ("continuous", "discrete")
DATA_SOURCES = ("auto", "hpob", "kit", "hpobench", "fixture")


@dataclass(frozen=True)
class ExperimentConfig:
    search_space_id: str = "5971"
    datasets: tuple[str, ...] | None = None   # meta-test tasks to run; None = all of the space
    seeds: tuple[str, ...] = ("test0", "test1", "test2", "test3", "test4")
    n_trials: int = 50
    protocol: str = "continuous"             # continuous = HPO-B's surrogate protocol (as the challenge ran it)
    methods: tuple[str, ...] = METHODS
    gen_vae_steps: int = 100                 # training steps per suggestion (challenge: 100)
    gen_vae_batch: int = 16                  # batch size (challenge: 16)
    gen_vae_candidates: int = 16             # fixed mode: decoded candidates scored per suggestion
    hpob_final_entry: bool = True            # continuous: HPO-B's stale last incumbent (True) or the true one
    n_workers: int = 1
    seed_offset: int = 0                     # shifts every method seed (method_seed): another draw of the same runs

    def validate(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {list(self.methods)}")
        check_int("n_trials", self.n_trials, 1)
        check_int("gen_vae_steps", self.gen_vae_steps, 1)
        check_int("gen_vae_batch", self.gen_vae_batch, 1)
        check_int("gen_vae_candidates", self.gen_vae_candidates, 1)
        check_int("n_workers", self.n_workers, 1)
        check_int("seed_offset", self.seed_offset, 0)
        if not self.seeds:
            raise ValueError("seeds must name at least one of HPO-B's seeds test0..test4")

    def method_settings(self, method: str) -> dict[str, Any]:
        """What a run of ``method`` depends on besides the task (part of its resume key)."""
        s: dict[str, Any] = {"method": method, "protocol": self.protocol, "n_trials": self.n_trials,
                             "seed_offset": self.seed_offset, "method_seed": METHOD_SEEDING}
        if self.protocol == "continuous":
            s["hpob_final_entry"] = self.hpob_final_entry
        if method == "gp_ei":
            s["gp_hyperparameters"] = GP_EI_FIT
        if method.startswith("gen_vae"):
            s.update(steps=self.gen_vae_steps, batch=self.gen_vae_batch)
            if method == "gen_vae_fixed":
                s["candidates"] = self.gen_vae_candidates
        return s


def seed_number(seed: str) -> int:
    """HPO-B's seed names test0..test4 -> the integer seeding a method's own random numbers."""
    digits = "".join(ch for ch in str(seed) if ch.isdigit())
    return int(digits) if digits else int(hashlib.sha1(str(seed).encode()).hexdigest()[:6], 16)


#: how a run's method seed is derived (part of every run's resume key: runs seeded otherwise are not reused)
METHOD_SEEDING = "per task: space, dataset, HPO-B seed, offset"
#: how GP-EI fits its hyperparameters (part of its runs' resume key: runs by maximum likelihood, before
#: 7 Dec 2026, are not reused; see hpo_kit.searchers.gp.priors)
GP_EI_FIT = "MAP, gamma priors"


def method_seed(space: str, dataset: str, seed: str, seed_offset: int = 0) -> int:
    """The seed of a method's own random numbers in one run: different for every (space, dataset, HPO-B seed,
    offset). With the HPO-B seed alone (as before 7 Dec 2026), random search drew the same points of the unit
    cube on every task of a seed, so the tasks of one seed were not independent units: the end-to-end null
    of "GP-EI beats random search" (both arms random search) held in 8.5 % at the workshop design."""
    import zlib

    task = zlib.crc32(f"{space}/{dataset}".encode())
    return (task * 1_000_003 + int(seed_offset) * 1000 + seed_number(seed)) % (2**31 - 1)


def make_method(method: str, dim: int, seed: int, cfg: ExperimentConfig, ranking: np.ndarray | None = None):
    """A fresh HPO-B method object for one run."""
    from hpo_kit.gen_vae import baselines
    from hpo_kit.gen_vae.method import GenVAE, GenVAEConfig

    if method == "random":
        return baselines.RandomSearch(dim, seed)
    if method == "gp_ei":
        return baselines.GPEI(dim, seed)
    if method == "optuna_gp":
        return baselines.OptunaGP(dim, seed)
    if method == "tpe":
        return baselines.TPE(dim, seed)
    if method == "transfer":
        return baselines.TransferBest(dim, seed, ranking)
    if method in ("gen_vae_faithful", "gen_vae_repairs", "gen_vae_fixed"):
        mode = "faithful" if method == "gen_vae_faithful" else "fixed"
        candidates = 1 if method == "gen_vae_repairs" else cfg.gen_vae_candidates
        return GenVAE(dim, seed, GenVAEConfig(mode=mode, n_steps=cfg.gen_vae_steps, batch_size=cfg.gen_vae_batch,
                                              n_candidates=candidates))
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


# ------------------------------------------------------------------------------ data
def open_benchmark(data: str = "auto", hpob_dir: str | Path | None = None):
    """The handler the experiment runs on, and which data it holds.

    ``data``: ``"hpob"`` = HPO-B's own files (``hpob_dir``, else ``HPO_KIT_HPOB``, the kit's data
    folder or the current folder; see :func:`hpo_kit.hpob.download.locate_hpob`), ``"kit"`` = the
    kit's own measured meta-dataset for space 5971 (:mod:`hpo_kit.hpob.kit_meta`), ``"hpobench"`` = the
    public HPOBench MLP tables as space ``hpobench_mlp`` (:mod:`hpo_kit.hpob.public_meta`; discrete
    protocol, leave-one-dataset-out meta-training), ``"auto"`` = HPO-B's files when present, else the
    kit's, ``"fixture"`` = the tiny synthetic test fixture.
    Returns ``(handler, source)``, ``source`` one of ``"hpob"``, ``"kit"``, ``"hpobench"``, ``"fixture"``.
    """
    from hpo_kit.hpob import HPOBHandler

    if data not in DATA_SOURCES:
        raise ValueError(f"data must be one of {DATA_SOURCES}, got {data!r}")
    if data == "hpobench":
        from hpo_kit.hpob.public_meta import public_handler

        return public_handler(mode="v3"), "hpobench"
    if data == "fixture":
        fixture = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hpob_tiny"
        return HPOBHandler(fixture / "hpob-data", mode="v3", surrogates_dir=fixture / "saved-surrogates"), "fixture"
    from hpo_kit.hpob import kit_meta

    handler = kit_meta.open_benchmark(data, mode="v3", hpob_root=hpob_dir or None)
    return handler, handler.source


def prepare_benchmark(data: str, protocol: str, search_space_id: str, hpob_dir: str | Path | None = None):
    """:func:`open_benchmark`, and the meta-test tasks the protocol can run: ``(handler, source, datasets)``.

    The continuous protocol needs each task's XGBoost surrogate (HPO-B ships them; the kit's
    measurement fits one per finished meta-test task). Tasks without one are left out, and said so.

    The tasks come hardest first (:func:`order_by_difficulty`), so a profile that uses the first few
    tasks uses the ones that can separate methods: on a task where many configurations reach the best
    value, the initial design often holds it already and every method ties at regret 0.
    """
    from hpo_kit.hpob import surrogate_name

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if data == "hpobench" and protocol != "discrete":
        raise ValueError(f"protocol = {protocol!r} with data = 'hpobench': the public tables have no surrogates "
                         "(every configuration of their space is measured); use protocol = 'discrete'")
    handler, source = open_benchmark(data, hpob_dir)
    if search_space_id not in handler.get_search_spaces():
        raise ValueError(f"search_space_id {search_space_id!r} is not in this meta-dataset; "
                         f"allowed: {sorted(handler.get_search_spaces())}")
    datasets = handler.get_datasets(search_space_id)
    if protocol == "continuous":
        stats = handler.surrogates_stats or {}
        with_model = [d for d in datasets if surrogate_name(search_space_id, d) in stats]
        if len(with_model) < len(datasets):
            print(f"continuous protocol: {len(datasets) - len(with_model)} meta-test task(s) have no surrogate yet "
                  f"and are left out: {[d for d in datasets if d not in with_model]}")
        if not with_model:
            raise FileNotFoundError(f"no meta-test task of space {search_space_id} has a surrogate in "
                                    f"{handler.surrogates_dir}; use protocol = 'discrete'")
        datasets = with_model
    return handler, source, order_by_difficulty(handler, search_space_id, datasets)


def share_at_best(y: np.ndarray) -> float:
    """Share of a task's configurations whose response equals its best (within 1e-9 of the range)."""
    y = np.asarray(y, dtype=float).ravel()
    span = float(np.ptp(y)) or 1.0
    return float(np.mean(y >= y.max() - 1e-9 * span))


def order_by_difficulty(handler: Any, space: str, datasets: list[str]) -> list[str]:
    """``datasets`` ordered by the share of configurations at the task's best value, smallest first
    (ties by name). It uses only the meta-dataset's own responses, never a method's results."""
    return sorted(datasets, key=lambda d: (share_at_best(handler.task(space, d)[1]), d))


def task_checksum(handler: Any, space: str, dataset: str) -> str:
    X, y = handler.task(space, dataset)
    h = hashlib.sha1(np.ascontiguousarray(X, dtype=float).tobytes())
    h.update(np.ascontiguousarray(y, dtype=float).tobytes())
    return h.hexdigest()[:16]


def meta_train_ranking(handler: Any, space: str, dataset: str | None = None) -> np.ndarray | None:
    """The transfer baseline's configuration order from the handler's meta-train split (None if not loaded).

    On a leave-one-dataset-out meta-dataset (``handler.info["leave_one_out"]``, the public tables) the
    meta-train tasks of ``dataset`` are the other meta-test tasks, so the order depends on ``dataset``.
    """
    from hpo_kit.gen_vae.baselines import transfer_ranking

    if getattr(handler, "info", {}).get("leave_one_out"):
        from hpo_kit.hpob.public_meta import leave_one_out_train

        if dataset is None:
            raise ValueError("a leave-one-dataset-out meta-dataset ranks per meta-test dataset: pass dataset")
        tasks = leave_one_out_train(handler, space, dataset)
        return transfer_ranking(tasks) if tasks else None
    try:
        data = handler.split_data("meta-train")
    except (ValueError, AttributeError):
        return None
    if space not in data or not data[space]:
        return None
    return transfer_ranking(data[space])


def check_tasks(handler: Any, cfg: ExperimentConfig) -> list[str]:
    """The datasets the experiment runs, after checking space, dataset and seed names (ValueError naming them)."""
    spaces = handler.get_search_spaces()
    if cfg.search_space_id not in spaces:
        raise ValueError(f"search_space_id {cfg.search_space_id!r} is not in this meta-dataset; "
                         f"allowed: {sorted(spaces)}")
    available = handler.get_datasets(cfg.search_space_id)
    datasets = list(available) if cfg.datasets is None else list(cfg.datasets)
    bad = [d for d in datasets if d not in available]
    if bad:
        raise ValueError(f"datasets {bad} are not meta-test tasks of search space {cfg.search_space_id}; "
                         f"allowed: {available}")
    bad_seeds = [s for s in cfg.seeds if s not in handler.get_seeds()]
    if bad_seeds:
        raise ValueError(f"seeds {bad_seeds} are not HPO-B seeds; allowed: {handler.get_seeds()}")
    return datasets


# ------------------------------------------------------------------------------ running
_STATE: dict[str, Any] = {}  # the handler and settings the forked workers inherit


def _run_one(method: str, dataset: str, seed: str) -> tuple[list[float], float]:
    from hpo_kit.train.threads import limit_torch_threads

    limit_torch_threads(1)
    handler, cfg, rankings = _STATE["handler"], _STATE["cfg"], _STATE["rankings"]
    space = cfg.search_space_id
    m = make_method(method, handler.get_search_space_dim(space), method_seed(space, dataset, seed, cfg.seed_offset),
                    cfg, rankings.get(dataset))
    t0 = time.process_time()
    if cfg.protocol == "continuous":
        curve = handler.evaluate_continuous(m, space, dataset, seed, cfg.n_trials, faithful=cfg.hpob_final_entry)
    else:
        curve = handler.evaluate(m, space, dataset, seed, cfg.n_trials)
    return [float(v) for v in curve], time.process_time() - t0


def run_path(out_dir: Path, method: str, space: str, dataset: str, seed: str) -> Path:
    return Path(out_dir) / method / space / dataset / f"{seed}.json"


def run_experiment(handler: Any, cfg: ExperimentConfig, out_dir: str | Path, *, progress: Callable | None = None,
                   ) -> tuple[dict[str, dict], dict[str, Any]]:
    """Every (method, dataset, seed) run, reusing finished ones from ``out_dir``.

    Returns ``(results, info)``: results per method in HPO-B's layout, and info with the CPU
    seconds per run (``"cpu_s"``: {method: [..]}), how many runs were reused and which methods
    were skipped (the transfer baseline needs a meta-train split).
    """
    cfg.validate()
    datasets = check_tasks(handler, cfg)
    space = cfg.search_space_id
    out_dir = Path(out_dir)
    # the transfer baseline's order per meta-test dataset (the same for every dataset unless the
    # meta-dataset is leave-one-dataset-out)
    rankings: dict[str, np.ndarray] = {}
    if "transfer" in cfg.methods:
        if getattr(handler, "info", {}).get("leave_one_out"):
            rankings = {d: r for d in datasets if (r := meta_train_ranking(handler, space, d)) is not None}
        elif (shared := meta_train_ranking(handler, space)) is not None:
            rankings = dict.fromkeys(datasets, shared)
    methods = [m for m in cfg.methods if not (m == "transfer" and len(rankings) < len(datasets))]
    skipped = [m for m in cfg.methods if m not in methods]
    checksums = {d: task_checksum(handler, space, d) for d in datasets}

    results: dict[str, dict] = {m: {space: {d: {} for d in datasets}} for m in methods}
    cpu: dict[str, list[float]] = {m: [] for m in methods}
    todo, reused = [], 0
    for m in methods:
        for d in datasets:
            key = {**cfg.method_settings(m), "space": space, "dataset": d, "task_sha1": checksums[d]}
            if m == "transfer":  # its order comes from the meta-train split, which may grow
                key["ranking_sha1"] = hashlib.sha1(np.ascontiguousarray(rankings[d]).tobytes()).hexdigest()[:16]
            for s in cfg.seeds:
                path = run_path(out_dir, m, space, d, s)
                if path.is_file():
                    try:
                        stored = json.loads(path.read_text())
                    except json.JSONDecodeError:
                        stored = {}
                    if stored.get("key") == {**key, "seed": s}:
                        results[m][space][d][s] = stored["incumbents"]
                        cpu[m].append(stored.get("cpu_s", math.nan))
                        reused += 1
                        continue
                todo.append((m, d, s, {**key, "seed": s}))

    def store(job, curve, seconds):
        m, d, s, key = job
        path = run_path(out_dir, m, space, d, s)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "incumbents": curve, "cpu_s": round(seconds, 3)}))
        os.replace(tmp, path)
        results[m][space][d][s] = curve
        cpu[m].append(seconds)

    _STATE.update(handler=handler, cfg=cfg, rankings=rankings)
    # the slowest runs first, so the pool does not end waiting on one long GEN-VAE run
    todo.sort(key=lambda job: (not job[0].startswith("gen_vae"), job[0]))
    bar = progress(total=len(todo), desc="HPO-B runs (method x task x seed)") if progress is not None and todo else None

    def done(job: tuple) -> None:
        if bar is not None:
            show_item(bar, f"last: {job[0]} on task {job[1]}, {job[2]}")
            bar.update(1)

    if cfg.n_workers == 1 or len(todo) <= 1:
        for job in todo:
            store(job, *_run_one(*job[:3]))
            done(job)
    else:
        from hpo_kit.parallel import process_pool

        # fork: the workers read the handler and its tasks from _STATE without pickling them
        with process_pool(cfg.n_workers, "fork") as pool:
            futures = {pool.submit(_run_one, *job[:3]): job for job in todo}
            for fut in as_completed(futures):
                store(futures[fut], *fut.result())
                done(futures[fut])
    if bar is not None:
        bar.close()
    # keep HPO-B's order of seeds within each task
    for m in results:
        for d in datasets:
            results[m][space][d] = {s: results[m][space][d][s] for s in cfg.seeds}
    return results, {"cpu_s": cpu, "reused": reused, "ran": len(todo), "skipped": skipped, "datasets": datasets}


__all__ = ["DATA_SOURCES", "ExperimentConfig", "LABELS", "METHODS", "PROTOCOLS", "check_tasks", "make_method",
           "meta_train_ranking", "open_benchmark", "prepare_benchmark", "run_experiment", "seed_number", "task_checksum"]
