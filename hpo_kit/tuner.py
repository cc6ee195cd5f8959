"""The tuning loop: scheduler decides, backend runs, run log remembers.

::

    while no stop criterion is met:
        while a worker is free and the scheduler has a job:   # fill free workers
            log "start"/"promote";  backend.submit(job)
        finished = backend.wait_one()                          # next job to finish
        log "result"/"failure"
        status = scheduler.on_result(...) / on_failure(...)    # scheduler tells its searcher
        log "continue"/"pause"/"stop"/"completed"

Resume: when ``<run_dir>/trials.jsonl`` exists (and ``resume=True``) the run continues from it.
The scheduler and searcher passed in must be freshly built with the same settings and seed; the
loop above then runs through :class:`~hpo_kit.backends.replay.ReplayBackend`, which hands back the
logged outcomes in the logged order instead of evaluating them, so the decision logic walks through
exactly the logged history (each regenerated event is checked against the log), and the run goes on
live from where it was killed. No finished evaluation is lost or repeated; jobs that were running
at the kill are run again. With the simulator the resumed log is byte-identical to an
uninterrupted run's.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.backends.base import Backend
from hpo_kit.backends.replay import ReplayBackend
from hpo_kit.objectives.base import Objective
from hpo_kit.runlog import (
    COMPLETION_EVENTS, FORMAT_VERSION, LOG_NAME, RunLock, RunLog, completion_record, decision_record, dumps,
    events_frame, job_record, notice_record, read_log, write_error,
)
from hpo_kit.schedulers.base import Scheduler, TrialStatus
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Evaluation

_EVENT_OF_STATUS = {
    TrialStatus.CONTINUE: "continue", TrialStatus.PAUSED: "pause",
    TrialStatus.STOPPED: "stop", TrialStatus.COMPLETED: "completed",
}


@dataclass
class HPOResult:
    """What a run produced. ``log`` is :func:`hpo_kit.runlog.load_log` of the run's log."""

    log: pd.DataFrame                 # one row per event, see hpo_kit.runlog.load_log
    trajectory: pd.DataFrame          # incumbent over time: see incumbent_trajectory
    best_config: dict[str, Any] | None
    best_loss: float                  # nan when no evaluation succeeded
    best_trial_id: int | None
    best_resource: int | None
    stop_reason: str                  # max_time, max_evaluations, max_total_resource, scheduler finished, ...
    n_evaluations: int                # finished jobs, results + failures
    total_resource: float             # epochs spent by finished jobs
    elapsed: float                    # backend clock at the end (wall or simulated seconds)
    n_replayed: int                   # outcomes taken from an earlier log when resuming
    run_dir: Path = field(default_factory=Path)
    #: backend time at which a restricted searcher took its last untried candidate (None: never);
    #: with on_exhausted="stop" no trial started after it (see hpo_kit.searchers.candidates)
    exhausted_at: float | None = None

    @property
    def results(self) -> pd.DataFrame:
        """Only the ``result`` rows of the log."""
        return self.log[self.log["event"] == "result"].reset_index(drop=True)


def incumbent_trajectory(log: pd.DataFrame) -> pd.DataFrame:
    """Best loss seen so far, one row each time it improves.

    Columns ``time``, ``best_loss``, ``trial_id``, ``resource`` (where that loss was measured) and
    ``n_evaluations`` (finished jobs so far). Results at *any* resource count, as in Syne Tune's
    and Klein et al.'s plots: a low-fidelity loss is a real validation loss of a real model.
    """
    done = log[log["event"].isin(COMPLETION_EVENTS)]
    losses = done["loss"].where(done["event"] == "result", math.inf).to_numpy(dtype=float)
    best = np.minimum.accumulate(losses) if len(losses) else losses
    previous = np.concatenate([[math.inf], best[:-1]])
    improved = best < previous
    return pd.DataFrame({
        "time": done["time"].to_numpy()[improved], "best_loss": best[improved],
        "trial_id": done["trial_id"].to_numpy()[improved], "resource": done["resource"].to_numpy()[improved],
        "n_evaluations": np.arange(1, len(done) + 1)[improved],
    })


def best_from_events(events: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, float, int | None, int | None]:
    """(config, loss, trial_id, resource) of the best result at the highest resource any trial reached.

    Comparing only results at the same (highest) resource keeps the choice fair in multi-fidelity
    runs: a 1-epoch loss is not evidence that a configuration is best after 81 epochs.
    """
    configs: dict[int, dict[str, Any]] = {}
    results = []
    for event in events:
        if "config" in event:
            configs.setdefault(event["trial_id"], event["config"])
        elif event.get("event") == "result":
            results.append(event)
    if not results:
        return None, math.nan, None, None
    top = max(r["resource"] for r in results)
    best = min((r for r in results if r["resource"] == top), key=lambda r: r["loss"])  # first on ties
    return configs.get(best["trial_id"]), best["loss"], best["trial_id"], top


#: header fields that say which code made the log: recorded, but not compared on resume (a bug fix
#: in the kit must not make old runs unresumable; a change that alters decisions is still caught,
#: event by event, by the replay)
INFORMATIONAL_FIELDS = ("kit",)


def _digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]


def _summary(value: Any, depth: int = 0) -> Any:
    """A JSON value that changes when ``value`` does, and is the same in every process.

    Only types whose text form is stable are described (numbers, text, containers of them, numpy
    arrays, dataclasses, search spaces); anything else by its type name, so that no memory address
    or hash-seed-dependent order can make two equal runs' headers differ.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value.item() if hasattr(value, "item") else value
    if isinstance(value, np.ndarray):
        return {"array": list(value.shape), "dtype": value.dtype.str,
                "sha256": _digest(np.ascontiguousarray(value).tobytes() + value.dtype.str.encode())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _summary(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if type(value).__name__ == "ConfigurationSpace":
        return {"space": _digest(str(value))}
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        if isinstance(value, (set, frozenset)):
            try:
                value = sorted(value)
            except TypeError:
                return type(value).__name__
        if isinstance(value, dict):
            summary: Any = {str(k): _summary(v, depth + 1) for k, v in value.items()}
        else:
            summary = [_summary(v, depth + 1) for v in value]
        text = json.dumps(summary, sort_keys=True, default=str)
        if depth >= 2 or len(text) > 400:        # long lists (candidates, tables): a digest
            return {"items": len(value), "sha256": _digest(text)}
        return summary
    if type(value).__module__.startswith("hpo_kit.") and hasattr(value, "__dict__") and depth < 2:
        # the kit's own helper objects (a searcher's candidate pool, encoder): their public state
        inner = {"name": type(value).__name__}
        inner.update({k: _summary(v, depth + 1) for k, v in vars(value).items() if not k.startswith("_")})
        return inner
    return type(value).__name__


def describe_settings(thing: Any) -> dict[str, Any]:
    """What the log header records about a scheduler, searcher, objective or backend.

    ``thing.describe()`` when it has one (the object then decides what its settings are), else its
    public attributes (seeds, configs, limits; see :func:`_summary`), plus the class. A subclass
    that inherits ``describe()`` gets its own constructor arguments recorded too
    (:func:`_subclass_settings`), so that resuming with another value of one is refused.
    """
    describe = getattr(thing, "describe", None)
    if callable(describe):
        settings = dict(describe())
        settings.update(_subclass_settings(thing, settings))
    else:
        settings = {"name": type(thing).__name__}
        for name, value in vars(thing).items() if hasattr(thing, "__dict__") else ():
            if not name.startswith("_") and name != "name":
                settings[name] = _summary(value)
        # A user's own objective rarely describes itself: its source code stands in for its settings,
        # so that resuming after an edit of evaluate() is refused instead of replaying old losses.
        try:
            settings["source"] = _digest(inspect.getsource(type(thing)))
        except (OSError, TypeError):
            pass  # defined where no source is kept (an interactive prompt): only the name is recorded
    settings["class"] = f"{type(thing).__module__}.{type(thing).__qualname__}"
    return json.loads(dumps(settings))


def _subclass_settings(thing: Any, described: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of ``thing``'s class that an inherited ``describe()`` cannot know.

    A subclass adding an argument (a fault rate, a delay, a penalty) and keeping its parent's
    ``describe()`` would otherwise log the parent's settings only, and a resume with another value
    would silently mix two runs in one log. Each such argument is read from the attribute of the
    same name (or ``_name``); one stored under another name is an error that says how to fix it.
    Arguments that cannot change a result (a sleep to make a run killable) are listed by the class
    in ``unrecorded_settings``.
    """
    cls = type(thing)
    owner = next((k for k in cls.__mro__ if "describe" in vars(k)), cls)
    if owner is cls:
        return {}
    try:
        own = inspect.signature(cls.__init__).parameters
        inherited = set(inspect.signature(owner.__init__).parameters)
    except (TypeError, ValueError):
        return {}
    skip = set(getattr(thing, "unrecorded_settings", ())) | inherited | set(described) | {"self"}
    found = {}
    for name, parameter in own.items():
        if name in skip or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        attribute = next((a for a in (name, f"_{name}") if a in getattr(thing, "__dict__", {})), None)
        if attribute is None:
            raise TypeError(
                f"{cls.__qualname__} takes the argument {name!r}, but its describe() (inherited from "
                f"{owner.__qualname__}) does not record it and no attribute {name!r} or '_{name}' holds it: "
                f"the run log could not tell two runs with different {name} apart. Define "
                f"{cls.__qualname__}.describe() including it, store it as self.{name}, or, if it cannot change "
                f"a result, list it in {cls.__qualname__}.unrecorded_settings")
        found[name] = _summary(getattr(thing, attribute))
    return found


def _kit_version() -> dict[str, Any]:
    """The kit's version and commit (read from .git, no git process), when known."""
    from importlib import metadata

    try:
        version = metadata.version("hpo-repro-kit")
    except metadata.PackageNotFoundError:
        version = None
    commit = None
    git_dir = Path(__file__).resolve().parent.parent / ".git"
    try:
        head = (git_dir / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            if (git_dir / ref).exists():
                commit = (git_dir / ref).read_text().strip()
            elif (git_dir / "packed-refs").exists():
                for line in (git_dir / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + ref):
                        commit = line.split()[0]
        else:
            commit = head
    except OSError:
        pass
    return {"version": version, "commit": commit}


def _backend_settings(backend: Backend) -> dict[str, Any]:
    settings = {"name": type(backend).__name__, "n_workers": backend.n_workers,
                "timeout": getattr(backend, "timeout", None)}
    for name in ("charge_decision_time", "decision_clock"):       # the simulator's clock rules
        if hasattr(backend, name):
            settings[name] = getattr(backend, name)
    return settings


def _header(objective: Objective, scheduler: Scheduler, backend: Backend, seed: int) -> dict[str, Any]:
    return {
        "event": "run", "format": FORMAT_VERSION, "seed": seed, "scheduler": describe_settings(scheduler),
        "searcher": describe_settings(scheduler.searcher), "objective": describe_settings(objective),
        "backend": _backend_settings(backend), "n_workers": backend.n_workers, "kit": _kit_version(),
    }


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted names of the header fields that differ (``scheduler.seed``, ``objective.noise_std``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            found += _differences(old.get(key), new.get(key), f"{prefix}{key}.")
        return found
    return [] if old == new else [prefix.rstrip(".")]


def _lookup(record: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


def _validate(objective, scheduler, backend, run_dir, seed, stop, resume, fsync) -> int:
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must follow hpo_kit.objectives.base.Objective (space, min_resource, "
                        f"max_resource, evaluate), got {type(objective).__name__}")
    if not isinstance(scheduler, Scheduler):
        raise TypeError(f"scheduler must be a hpo_kit.schedulers.base.Scheduler, got {type(scheduler).__name__}")
    if not isinstance(backend, Backend):
        raise TypeError(f"backend must be a hpo_kit.backends.base.Backend, got {type(backend).__name__}")
    if run_dir is None or not isinstance(run_dir, (str, Path)) or str(run_dir) == "":
        raise ValueError(f"run_dir must be a folder path (str or pathlib.Path) for the run log, got {run_dir!r}")
    if Path(run_dir).exists() and not Path(run_dir).is_dir():
        raise ValueError(f"run_dir must be a folder for the run log, but {str(run_dir)!r} is a file: give another path "
                         "or remove the file")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    for name, value in (("resume", resume), ("fsync", fsync)):
        if not isinstance(value, bool) and not (name == "fsync" and value is None):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    if not isinstance(stop, StopCriteria):
        raise TypeError(f"stop must be a StopCriteria, got {type(stop).__name__}")
    finite = scheduler.is_finite()
    if not stop.is_bounded and not finite:
        raise ValueError("the run would never end: set stop=StopCriteria(max_time=..., max_evaluations=... or "
                         "max_total_resource=...), or give the scheduler a limit (max_trials / n_iterations)")
    if scheduler.max_resource > objective.max_resource or scheduler.min_resource < objective.min_resource:
        raise ValueError(
            f"the scheduler's resources [{scheduler.min_resource}, {scheduler.max_resource}] must lie within the "
            f"objective's [{objective.min_resource}, {objective.max_resource}]"
        )
    _check_same_space(objective, scheduler)
    return int(seed)


def _hyperparameter_range(hp: Any) -> tuple[str, Any] | None:
    """(kind, values) of a ConfigSpace hyperparameter: choices, a sequence or [lower, upper]."""
    if hasattr(hp, "choices"):
        return "categorical", tuple(hp.choices)
    if hasattr(hp, "sequence"):
        return "ordinal", tuple(hp.sequence)
    if hasattr(hp, "lower") and hasattr(hp, "upper"):
        return ("integer" if "Integer" in type(hp).__name__ else "float"), (float(hp.lower), float(hp.upper))
    if hasattr(hp, "value"):
        return "constant", hp.value
    return None


def _check_same_space(objective: Objective, scheduler: Scheduler) -> None:
    """The searcher must propose configurations the objective can evaluate.

    A searcher built on another search space (another table, another notebook's space) would make
    every evaluation fail with a KeyError or an out-of-range value, and the run would end with a
    log of failures and no result. Compared: the hyperparameter names, and each range (the
    searcher's must lie within the objective's; defaults and the space's name may differ).
    """
    mine, theirs = getattr(scheduler.searcher, "space", None), getattr(objective, "space", None)
    if mine is None or theirs is None or mine is theirs or not hasattr(mine, "keys") or not hasattr(theirs, "keys"):
        return
    names, wanted = list(mine.keys()), list(theirs.keys())
    problems = []
    if set(names) != set(wanted):
        extra, missing = sorted(set(names) - set(wanted)), sorted(set(wanted) - set(names))
        if extra:
            problems.append(f"it proposes {extra}, which the objective does not know")
        if missing:
            problems.append(f"it never sets {missing}, which the objective needs")
    for name in sorted(set(names) & set(wanted)):
        a, b = _hyperparameter_range(mine[name]), _hyperparameter_range(theirs[name])
        if a is None or b is None:
            continue
        if a[0] != b[0] and {a[0], b[0]} != {"integer", "float"}:
            problems.append(f"{name!r} is {a[0]} in the searcher's space but {b[0]} in the objective's")
        elif a[0] in ("categorical", "ordinal", "constant"):
            values = a[1] if a[0] != "constant" else (a[1],)
            allowed = b[1] if b[0] != "constant" else (b[1],)
            outside = [v for v in values if v not in allowed]
            if outside:
                problems.append(f"{name!r} may take {outside}, not among the objective's {list(allowed)}")
        elif not (b[1][0] <= a[1][0] and a[1][1] <= b[1][1]):
            problems.append(f"{name!r} ranges over [{a[1][0]:g}, {a[1][1]:g}] in the searcher's space, outside the "
                            f"objective's [{b[1][0]:g}, {b[1][1]:g}]")
    if problems:
        raise ValueError(f"the searcher's search space does not fit the objective's ({type(objective).__name__}): "
                         + "; ".join(problems) + ". Build the searcher on objective.space; otherwise every "
                         "evaluation would fail")


def _open_log(log_path: Path, header: dict[str, Any], resume: bool, deterministic: bool, fsync: bool,
              backend: Backend) -> tuple[RunLog, Backend]:
    """A fresh log, or the existing one plus a ReplayBackend to walk through its history."""
    lines, records = read_log(log_path, repair=True) if resume and log_path.exists() else ([], [])
    if not lines:
        try:
            log_path.write_text(dumps(header) + "\n", encoding="utf-8")
        except OSError as error:
            raise write_error(log_path, error) from error
        return RunLog(log_path, fsync=fsync), backend
    old_header, records = records[0], records[1:]
    new_header = json.loads(dumps(header))
    different = [name for name in _differences(old_header, new_header)
                 if name.split(".")[0] not in INFORMATIONAL_FIELDS]
    if different:
        details = "; ".join(f"{k}: logged {_lookup(old_header, k)!r}, now {_lookup(new_header, k)!r}"
                            for k in different)
        raise ValueError(f"cannot resume {log_path}: it was made by a different run ({details}). "
                         "Use another run_dir, or resume=False to start over. (A constructor argument that "
                         "cannot change a result may be left out with the class's unrecorded_settings.)")
    completions = [r for r in records if r["event"] in COMPLETION_EVENTS]
    resume_time = max((r["time"] for r in records if r.get("time") is not None), default=0.0)
    log = RunLog(log_path, fsync=fsync, replay_lines=lines[1:], exact=deterministic)
    return log, ReplayBackend(backend, completions, resume_time, source=str(log_path))


def _progress_bar(stop: StopCriteria, enabled: bool):
    from hpo_kit.progress import progress

    if stop.max_evaluations is not None:
        total, unit, measure = stop.max_evaluations, "eval", "evaluations"
    elif stop.max_total_resource is not None:
        total, unit, measure = stop.max_total_resource, "epoch", "resource"
    elif stop.max_time is not None:
        total, unit, measure = max(1, int(stop.max_time)), "s", "time"
    else:
        total, unit, measure = None, "eval", "evaluations"
    return progress(None, desc="HPO", total=total, unit=unit, disable=not enabled), measure


def run_hpo(
    objective: Objective,
    scheduler: Scheduler,
    backend: Backend,
    run_dir: str | Path,
    seed: int,
    stop: StopCriteria = StopCriteria(),
    resume: bool = True,
    progress: bool = True,
    fsync: bool | None = None,
) -> HPOResult:
    """Tune until a stop criterion is met or the scheduler is done; log to ``<run_dir>/trials.jsonl``.

    ``seed`` seeds the evaluations (``trial_seed(seed, trial_id)``); the scheduler and searcher carry
    their own seeds (``hpo_kit.methods.make_scheduler`` derives them from one). ``resume=True``
    continues an existing log (see the module docstring); ``resume=False`` replaces it.
    ``fsync`` forces every log line to disk (default: yes for real backends, no for the simulator,
    see :mod:`hpo_kit.runlog`). The backend is closed at the end.
    """
    seed = _validate(objective, scheduler, backend, run_dir, seed, stop, resume, fsync)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / LOG_NAME
    deterministic = backend.deterministic
    if fsync is None:
        # not "not deterministic": a simulator charging decision time is not deterministic, and it
        # replays thousands of lines per second (fsync made such runs 5x slower in wall time)
        fsync = not backend.simulated
    lock = RunLock(run_dir).acquire()   # a second run on this folder fails here, before touching the log
    try:
        header = _header(objective, scheduler, backend, seed)
        backend.start(objective, seed)  # a backend that cannot run the objective fails before the log is written
        try:
            log, engine = _open_log(log_path, header, resume, deterministic, fsync, backend)
        except BaseException:
            backend.close()
            raise
        return _run_loop(objective, scheduler, stop, progress, log, engine, log_path, run_dir, deterministic)
    finally:
        lock.release()


def _run_loop(objective, scheduler, stop, progress, log, engine, log_path, run_dir, deterministic) -> HPOResult:
    n_logged = engine.n_logged if isinstance(engine, ReplayBackend) else 0

    bar, measure = _progress_bar(stop, progress)
    last_resource: dict[int, int] = {}
    n_evaluations, total_resource, running, best = 0, 0.0, 0, math.inf
    stop_reason = None
    try:
        while stop_reason is None:
            while engine.free_workers > 0:
                job = scheduler.next_job()
                if job is None:
                    break
                log.write(job_record(job, engine.now(), deterministic))
                for notice in scheduler.pop_notices():
                    log.write(notice_record(notice, job.trial_id, engine.now(), deterministic))
                    _warn_exhausted(notice, engine.now(), log.replaying)
                engine.submit(job)
                running += 1
            if running == 0:
                if scheduler.searcher.exhausted():
                    stop_reason = "candidates exhausted"
                else:
                    stop_reason = "scheduler finished" if scheduler.is_done() else "scheduler has no job to run"
                break
            finished = engine.wait_one()
            running -= 1
            job = finished.job
            log.write(completion_record(finished, deterministic))
            if isinstance(finished.outcome, Evaluation):
                status = scheduler.on_result(job, finished.outcome)
            else:
                status = scheduler.on_failure(job, finished.outcome)
            if not isinstance(status, TrialStatus):
                raise TypeError(f"{type(scheduler).__name__} returned {status!r}, expected a TrialStatus")
            last_resource[job.trial_id] = job.resource
            log.write(decision_record(_EVENT_OF_STATUS[status], job.trial_id, job.resource,
                                      finished.finished_at, deterministic))
            for trial_id, other_status in scheduler.pop_decisions():
                log.write(decision_record(_EVENT_OF_STATUS[other_status], trial_id, last_resource.get(trial_id, 0),
                                          finished.finished_at, deterministic))

            n_evaluations += 1
            total_resource += job.resource - job.previous_resource
            if measure == "time":      # the bar shows whole seconds of the clock, up to the budget
                bar.update(max(0, int(min(engine.now(), stop.max_time)) - bar.n))
            else:
                bar.update(job.resource - job.previous_resource if measure == "resource" else 1)
            if isinstance(finished.outcome, Evaluation) and finished.outcome.loss < best:
                best = finished.outcome.loss
                bar.set_postfix_str(f"best loss {best:.4g}", refresh=False)
            stop_reason = stop.reason_to_stop(engine.now(), n_evaluations, total_resource)
        elapsed = engine.now()
    except BaseException as error:
        # The first error is the one to report. A full disk that stopped the loop makes closing
        # the log fail too (the unwritten rest of the buffer), and that second error must not
        # replace the first (it would name no file, and hide why the run stopped).
        for close in (bar.close, log.close, engine.close):
            try:
                close()
            except Exception as later:  # noqa: BLE001 - kept as a note on the first error
                error.add_note(f"while closing after this error: {type(later).__name__}: {later}")
        raise
    bar.close()
    try:
        log.close()
    finally:
        engine.close()

    lines, events = read_log(log_path)
    if log.replaying:
        # Resumed with a smaller limit than the log already holds (max_evaluations=100 on a
        # 300-evaluation log): the result describes the run that was asked for, i.e. the part of
        # the log replayed before the limit was reached, as a fresh run with that limit would
        # give. The file keeps all of its lines, so a later resume with the larger limit goes on.
        events = events[:1 + log.position]
    frame = events_frame(events[1:])
    config, loss, trial_id, resource = best_from_events(events)
    exhausted_at = next((float(e["time"]) for e in events[1:] if e.get("event") == "exhausted"), None)
    return HPOResult(
        log=frame, trajectory=incumbent_trajectory(frame), best_config=config, best_loss=loss,
        best_trial_id=trial_id, best_resource=resource, stop_reason=stop_reason, n_evaluations=n_evaluations,
        total_resource=total_resource, elapsed=elapsed, n_replayed=n_logged, run_dir=run_dir,
        exhausted_at=exhausted_at,
    )


def _warn_exhausted(notice: dict[str, Any], time: float, replaying: bool) -> None:
    """Say once per process that a candidate list ran out and configurations now repeat (the log has
    every time). With ``on_exhausted="stop"`` the run ends as the user asked: nothing to warn about."""
    if replaying or notice["on_exhausted"] == "stop":
        return
    import warnings

    what = ("no new trials start from now on" if notice["on_exhausted"] == "stop"
            else "a new pass over them starts, so configurations repeat from now on")
    # the time is not in the message: warnings are shown once per message, not once per run
    warnings.warn(f"all {notice['candidates']} candidates have been tried (on_exhausted="
                  f"{notice['on_exhausted']!r}): {what}; the run log records when (event 'exhausted', "
                  "HPOResult.exhausted_at)", RuntimeWarning, stacklevel=3)
