"""The run log: one JSON object per line in ``<run_dir>/trials.jsonl``, appended as events happen.

Line 1 describes the run (``"event": "run"``): the run seed and the settings of the scheduler,
searcher, objective and backend (seeds included; :func:`hpo_kit.tuner.describe_settings`), and the
kit's version and commit. A resumed run must have the same settings, field by field (the kit's
version and commit may differ). ``trials.lock`` beside the log (:class:`RunLock`) lets only one run
use a run folder at a time.
Every later line is one event, written and flushed the moment it happens, so a killed run keeps
everything up to its last event and can be resumed (:func:`hpo_kit.tuner.run_hpo`):

===========  ====================================================================================
event        meaning and extra fields
===========  ====================================================================================
start        a new trial's first job was submitted: ``config``
promote      a job continuing a trial from ``previous_resource`` was submitted (a promotion, or
             the next rung of the stopping variant): ``config``
result       a job finished: ``loss``, ``cost`` (seconds of the objective), ``started``,
             ``worker``, ``info`` (e.g. test error)
failure      a job failed (exception, NaN/inf loss, time-out): ``reason``, ``cost``, ``started``,
             ``worker``
continue     the trial goes on to its next rung at once (stopping variant)
pause        the trial waits at its rung; it may be promoted later
stop         the trial will not run again
completed    the trial reached the maximum resource
exhausted    the searcher's candidate list is used up (the last untried candidate went to trial
             ``trial_id``, just started): ``candidates`` (how many), ``on_exhausted`` ("stop": no
             new trials from now on; "repeat": a new pass over the candidates), ``pass``;
             ``resource`` is 0. Logs written before this event existed simply lack it.
===========  ====================================================================================

All events carry ``trial_id``, ``resource``, ``time``; jobs also ``previous_resource``, ``bracket``
and ``rung``. ``time`` is seconds since the run started on the backend's clock: wall time, or the
simulator's virtual time. A simulated run logs nothing else that varies between runs (no dates,
host names or measured durations), so two runs with the same seed give byte-identical files.

Durability: each line is flushed to the operating system at once, which survives the process
being killed (even ``kill -9``). With ``fsync=True`` it is also forced to disk (survives a machine
crash), which costs ~0.2-3 ms per line; the tuner does that for real backends and skips it for the
simulator, whose runs are cheap to redo and write thousands of lines per second.
"""
from __future__ import annotations

import errno
import json
import math
import os
import socket
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.backends.base import Finished
from hpo_kit.trial import Evaluation, Failure, Job

LOG_NAME = "trials.jsonl"
LOCK_NAME = "trials.lock"
#: 2: the header describes the settings (seeds included) of scheduler, searcher, objective, backend
FORMAT_VERSION = 2
JOB_EVENTS = ("start", "promote")
COMPLETION_EVENTS = ("result", "failure")
DECISION_EVENTS = ("continue", "pause", "stop", "completed")
#: fields that identify an event independently of timing: compared when a resumed run replays its log
#: (``config`` too, where the event has one: the same trial id with another configuration is
#: another run, and its logged loss must not be credited to the new configuration)
KEY_FIELDS = ("event", "trial_id", "resource", "previous_resource", "config")
#: the fields every event of a kind must have (read_log rejects a line that lacks one)
REQUIRED_FIELDS = {
    "start": ("trial_id", "resource", "previous_resource", "time", "config"),
    "promote": ("trial_id", "resource", "previous_resource", "time", "config"),
    "result": ("trial_id", "resource", "previous_resource", "loss", "cost", "started", "time", "worker"),
    "failure": ("trial_id", "resource", "previous_resource", "reason", "cost", "started", "time", "worker"),
    "continue": ("trial_id", "resource", "time"),
    "pause": ("trial_id", "resource", "time"),
    "stop": ("trial_id", "resource", "time"),
    "completed": ("trial_id", "resource", "time"),
    "exhausted": ("trial_id", "resource", "time", "candidates", "on_exhausted"),
}
NOTICE_EVENTS = ("exhausted",)
_WHAT_TO_DO = ("Restore the file from a copy, or start over with resume=False (or another run_dir); "
               "load_log cannot read it either.")


def to_jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars become Python numbers, NaN/inf become null."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def dumps(record: dict[str, Any]) -> str:
    """One compact line; key order is the record's order (so equal runs give equal bytes)."""
    try:  # fast path: plain Python values (the usual case; numpy floats are floats too)
        return json.dumps(record, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # numpy integers/arrays, NaN or inf somewhere
        return json.dumps(to_jsonable(record), separators=(",", ":"), allow_nan=False)


# -- building records --------------------------------------------------------------------------
def _clock(t: float, deterministic: bool) -> float:
    # Wall-clock times are rounded to microseconds (shorter lines); virtual times are kept exactly
    # so that a resumed simulation reproduces them bit for bit.
    return float(t) if deterministic else round(float(t), 6)


def job_record(job: Job, time: float, deterministic: bool) -> dict[str, Any]:
    return {
        "event": "start" if job.previous_resource == 0 else "promote", "trial_id": job.trial_id,
        "resource": job.resource, "previous_resource": job.previous_resource, "bracket": job.bracket,
        "rung": job.rung, "time": _clock(time, deterministic), "config": job.config,
    }


def completion_record(finished: Finished, deterministic: bool) -> dict[str, Any]:
    job, outcome = finished.job, finished.outcome
    record: dict[str, Any] = {
        "event": "result" if isinstance(outcome, Evaluation) else "failure", "trial_id": job.trial_id,
        "resource": job.resource, "previous_resource": job.previous_resource, "bracket": job.bracket,
        "rung": job.rung,
    }
    if isinstance(outcome, Evaluation):
        record["loss"] = float(outcome.loss)
    else:
        record["reason"] = outcome.reason
    cost = outcome.cost if deterministic else round(float(outcome.cost), 6)
    record.update(cost=cost, started=_clock(finished.started_at, deterministic),
                  time=_clock(finished.finished_at, deterministic), worker=finished.worker)
    if isinstance(outcome, Evaluation) and outcome.info:
        record["info"] = outcome.info
    return record


def decision_record(event: str, trial_id: int, resource: int, time: float, deterministic: bool) -> dict[str, Any]:
    return {"event": event, "trial_id": trial_id, "resource": resource, "time": _clock(time, deterministic)}


def notice_record(notice: dict[str, Any], trial_id: int, time: float, deterministic: bool) -> dict[str, Any]:
    """An ``exhausted`` event (see the table above) from a searcher's notice."""
    return {"event": "exhausted", "trial_id": trial_id, "resource": 0, "time": _clock(time, deterministic),
            "candidates": notice["candidates"], "on_exhausted": notice["on_exhausted"], "pass": notice["pass"]}


def finished_from_record(record: dict[str, Any], job: Job) -> Finished:
    """Rebuild what the backend returned for a logged result/failure (used when resuming)."""
    if record["event"] == "result":
        outcome: Evaluation | Failure = Evaluation(loss=record["loss"], cost=record["cost"], info=record.get("info", {}))
    else:
        outcome = Failure(record["reason"], cost=record["cost"])
    return Finished(job, outcome, record["started"], record["time"], record["worker"])


# -- writing -------------------------------------------------------------------------------------
class ResumeMismatch(RuntimeError):
    """The resumed run made a different decision than the logged run (different settings or code)."""


class RunLog:
    """Append events to ``path``, one flushed line each.

    When resuming, ``replay_lines`` holds the lines already in the file (after the header): the
    resumed run regenerates them, and each regenerated event is checked against the logged one
    instead of being written again. With ``exact=True`` (simulator) whole lines must match byte for
    byte; otherwise only :data:`KEY_FIELDS` (timings differ between wall-clock runs).
    """

    def __init__(self, path: str | Path, *, fsync: bool = True, replay_lines: list[str] | None = None,
                 exact: bool = False):
        self.path = Path(path)
        self.fsync = fsync
        self.exact = exact
        self._replay = replay_lines or []
        self._position = 0
        self._written = 0
        try:
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError as error:
            raise write_error(self.path, error) from error

    @property
    def replaying(self) -> bool:
        """True while written events are still checked against the old log rather than appended."""
        return self._position < len(self._replay)

    @property
    def position(self) -> int:
        """How many events (after the header) were written or checked against the old log so far."""
        return self._position if self.replaying else len(self._replay) + self._written


    def write(self, record: dict[str, Any]) -> None:
        line = dumps(record)
        if self._position < len(self._replay):
            logged = self._replay[self._position]
            self._position += 1
            if self.exact:
                differ = [] if logged == line else ["the line"]
            else:
                old, new = json.loads(logged), json.loads(line)
                differ = [k for k in KEY_FIELDS if old.get(k) != new.get(k)]
            if differ:
                raise ResumeMismatch(
                    f"resuming {self.path}: line {self._position + 1} of the log differs in "
                    f"{', '.join(differ)}: the log has\n  {logged}\nbut the resumed run produced\n  {line}\n"
                    "The run was started with other settings (seed, method, objective or code). Use a new "
                    "run_dir, or resume=False to start over."
                )
            return
        self._written += 1
        try:
            self._file.write(line + "\n")
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
        except OSError as error:
            raise write_error(self.path, error) from error

    def close(self) -> None:
        """Close the file; an error here (a full disk refusing the buffered rest) names the file."""
        if self._file.closed:
            return
        try:
            self._file.close()
        except OSError as error:
            raise write_error(self.path, error) from error

    def __enter__(self) -> "RunLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_error(path: Path, error: OSError) -> OSError:
    """The same OSError, saying which file could not be written and what to do (disk full, ...)."""
    hint = " (the disk is full: free space, then resume the run)" if error.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return type(error)(error.errno, f"cannot write {path}: {error.strerror or error}{hint}")


class RunDirLocked(RuntimeError):
    """Another run holds this run folder."""


class RunLock:
    """One run per run folder: an exclusive ``flock`` on ``<run_dir>/trials.lock``, held for the run.

    Two runs appending to one log would interleave two histories that can never be resumed; the
    second run fails at once instead, naming the folder and the holder (pid, host, since when). The
    operating system drops the lock when its holder dies (even ``kill -9``), so a killed run never
    leaves a stale lock behind. On systems without ``fcntl`` (Windows) no lock is taken.
    """

    def __init__(self, run_dir: str | Path, name: str = LOCK_NAME, what: str = "run folder",
                 advice: str = "wait for it to end, or use another run_dir (two runs in one folder would mix "
                               "their logs)"):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / name
        self.what = what          # how the message names the folder and what to do (the runner reuses this lock)
        self.advice = advice
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            os.close(fd)
            try:
                who = json.loads(holder)
                who = f"pid {who['pid']} on {who['host']}, since {who['since']}"
            except (ValueError, KeyError, TypeError):
                who = "a process that has not written its name yet"
            raise RunDirLocked(f"{self.what} {self.run_dir} is in use by another run ({who}); {self.advice}") from None
        except OSError as error:
            if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                os.close(fd)
                raise
            # a file system without locks (some network mounts): run unlocked, as before locks existed
            import warnings

            warnings.warn(f"cannot lock {self.path} ({error.strerror}); make sure no other run uses "
                          f"{self.run_dir} at the same time", RuntimeWarning, stacklevel=3)
            os.close(fd)
            return self
        holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "since": _time.strftime("%Y-%m-%d %H:%M:%S")})
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode() + b"\n", 0)
        except OSError as error:
            os.close(fd)
            raise write_error(self.path, error) from error
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)     # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# -- reading -------------------------------------------------------------------------------------
def read_log(path: str | Path, repair: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
    """The complete lines of a log and the events they hold (header first).

    A run killed mid-write may leave a partial last line: it is ignored, and with ``repair=True``
    cut from the file so that appending continues cleanly. Any other unreadable line is an error.
    """
    path = Path(path)
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1       # bytes up to the last complete line
    lines = data[:end].decode("utf-8").splitlines()
    events = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: line {number} is not valid JSON ({error}); the log is damaged. "
                             f"{_WHAT_TO_DO}") from error
        _check_event(path, number, event)
        events.append(event)
    if repair and end < len(data):
        with open(path, "r+b") as file:
            file.truncate(end)
    return lines, events


def _check_event(path: Path, number: int, event: Any) -> None:
    """A line that is valid JSON but not an event of this format: name the file, line and field."""
    if not isinstance(event, dict) or "event" not in event:
        raise ValueError(f"{path}: line {number} is not an event (no 'event' field); the log is damaged. {_WHAT_TO_DO}")
    kind = event["event"]
    if number == 1:
        if kind != "run":
            raise ValueError(f"{path}: line 1 must be the run header (event 'run'), got event {kind!r}; "
                             f"this is not a run log of hpo_kit. {_WHAT_TO_DO}")
        return
    if kind not in REQUIRED_FIELDS:
        raise ValueError(f"{path}: line {number} has unknown event {kind!r} (expected one of "
                         f"{list(REQUIRED_FIELDS)}); the log is damaged. {_WHAT_TO_DO}")
    missing = [name for name in REQUIRED_FIELDS[kind] if name not in event]
    if missing:
        raise ValueError(f"{path}: line {number} ({kind} event) lacks the field(s) {missing}; the log is "
                         f"damaged. {_WHAT_TO_DO}")
    for name in ("trial_id", "resource", *(("previous_resource",) if "previous_resource" in REQUIRED_FIELDS[kind]
                                           else ())):
        value = event[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: line {number} ({kind} event) has {name}={value!r}, expected an "
                             f"integer; the log is damaged. {_WHAT_TO_DO}")
    # numbers the tuner computes with when it resumes or summarises: a null or a string here would
    # end the run later with a bare TypeError that names neither file nor line
    for name in ("loss", "time", "started"):
        if name in REQUIRED_FIELDS[kind] and not _is_number(event[name], finite=name == "loss"):
            raise ValueError(f"{path}: line {number} ({kind} event) has {name}={event[name]!r}, expected a "
                             f"{'finite ' if name == 'loss' else ''}number; the log is damaged. {_WHAT_TO_DO}")
    if "cost" in REQUIRED_FIELDS[kind] and event["cost"] is not None and not _is_number(event["cost"]):
        # null is a cost the objective did not know (NaN, written as null)
        raise ValueError(f"{path}: line {number} ({kind} event) has cost={event['cost']!r}, expected a number "
                         f"of seconds or null; the log is damaged. {_WHAT_TO_DO}")
    if "config" in REQUIRED_FIELDS[kind] and not isinstance(event["config"], dict):
        raise ValueError(f"{path}: line {number} ({kind} event) has config={event['config']!r}, expected a "
                         f"mapping of hyperparameter names to values; the log is damaged. {_WHAT_TO_DO}")


def _is_number(value: Any, finite: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) if finite else True


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """All events (header first) as dicts."""
    return read_log(path)[1]


def read_header(path: str | Path) -> dict[str, Any]:
    """The run description (first line)."""
    events = read_events(path)
    if not events:
        raise ValueError(f"{path} is empty: no run header")
    return events[0]


BASE_COLUMNS = ("event", "trial_id", "resource", "previous_resource", "bracket", "rung", "loss", "cost",
                "started", "time", "worker", "reason")


def load_log(path: str | Path) -> pd.DataFrame:
    """The log as a table, one row per event (the header excluded), in the order they happened.

    Columns: ``event`` (start, promote, result, failure, continue, pause, stop, completed),
    ``trial_id``, ``resource``, ``previous_resource``, ``bracket``, ``rung``, ``loss``, ``cost``,
    ``started``, ``time`` (wall or simulated seconds since the start), ``worker``, ``reason``
    (failures), then one ``config_<name>`` column per hyperparameter (filled on every row of the
    trial) and one ``info_<key>`` column per extra the objective reported. Accepts a run folder or
    the ``trials.jsonl`` file. Results only: ``df[df.event == "result"]``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / LOG_NAME
    return events_frame(read_events(path)[1:])


def events_frame(events: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`load_log` for events already read (without the header)."""
    frame = pd.DataFrame.from_records(events, columns=list(BASE_COLUMNS) + ["config", "info"])
    configs: dict[int, dict[str, Any]] = {}
    for event in events:
        if "config" in event:
            configs.setdefault(event["trial_id"], event["config"])
    infos = frame.pop("info")
    frame = frame.drop(columns="config")
    for column in ("loss", "cost", "started", "time"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in ("trial_id", "resource", "previous_resource", "bracket", "rung", "worker"):
        frame[column] = pd.array(frame[column], dtype="Int64")
    frame["reason"] = frame["reason"].astype("str")     # text even when no job failed (missing = NaN)
    if configs:
        table = pd.DataFrame.from_dict(configs, orient="index").add_prefix("config_")
        table = table.reindex(frame["trial_id"].to_numpy(dtype="int64"))   # every event has a trial id
        frame = pd.concat([frame, table.reset_index(drop=True)], axis=1)
    has_info = infos.notna()
    if has_info.any():
        extras = pd.DataFrame.from_records(infos[has_info].tolist(), index=infos.index[has_info]).add_prefix("info_")
        frame = frame.join(extras)
    return frame
