"""Run log and resume: kill -9 a real run, resume it, lose and repeat nothing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpo_kit.methods import make_backend, make_scheduler
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.runlog import ResumeMismatch, load_log, read_events
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import run_hpo

TESTS_DIR = Path(__file__).resolve().parent
N_EVALUATIONS = 80


class SlowTabular(TabularObjective):
    """A tabular objective that sleeps ``delay`` seconds per evaluation and remembers its calls."""

    #: the sleep only makes a run killable part-way; a run killed with it is resumed without it
    unrecorded_settings = ("delay",)

    def __init__(self, delay: float = 0.0):
        super().__init__(synthetic_table(n_configs=200, n_epochs=27, seed=1))
        self.delay = delay
        self.calls: list[tuple[int, int]] = []

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        time.sleep(self.delay)
        self.calls.append((trial_id, resource))
        return super().evaluate(config, resource, seed, trial_id=trial_id, previous_resource=previous_resource)


def run(run_dir: str, backend: str, delay: float, seed: int = 7, objective: SlowTabular | None = None):
    objective = objective or SlowTabular(delay)
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 27, eta=3, seed=seed, brackets=2)
    n_workers = 3 if backend == "simulator" else None
    return run_hpo(objective, scheduler, make_backend(backend, n_workers), run_dir, seed=seed,
                   stop=StopCriteria(max_evaluations=N_EVALUATIONS), progress=False)


def completions(path: Path) -> list[tuple[int, int]]:
    return [(e["trial_id"], e["resource"]) for e in read_events(path) if e["event"] in ("result", "failure")]


def start_and_kill(run_dir: Path, backend: str, kill_after: int = 20) -> None:
    """Run in a subprocess and SIGKILL it once ``kill_after`` results are logged."""
    code = f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); import test_runlog_resume as t; " \
           f"t.run({str(run_dir)!r}, {backend!r}, 0.05)"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=TESTS_DIR.parent,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = run_dir / "trials.jsonl"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if log.exists() and log.read_bytes().count(b'"event":"result"') >= kill_after:
                break
            if process.poll() is not None:
                raise AssertionError(f"the run ended before it was killed: {process.stderr.read().decode()}")
            time.sleep(0.01)
        else:
            raise AssertionError("the run logged too few results within 60 s")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(completions(log)) < N_EVALUATIONS          # really killed mid-run


def check_resumed(run_dir: Path, reference_dir: Path, backend: str) -> None:
    log = run_dir / "trials.jsonl"
    before_bytes = log.read_bytes()
    before = completions(log)
    objective = SlowTabular(0.0)
    result = run(str(run_dir), backend, 0.0, objective=objective)
    after = completions(log)
    # nothing lost: the old log is an unchanged prefix of the new one (partial last line aside)
    assert log.read_bytes().startswith(before_bytes[: before_bytes.rfind(b"\n") + 1])
    assert after[: len(before)] == before and len(after) == N_EVALUATIONS
    # nothing repeated: each outcome logged once, and no logged outcome evaluated again
    assert len(set(after)) == len(after)
    assert not set(objective.calls) & set(before)
    assert result.n_replayed == len(before) and result.n_evaluations == N_EVALUATIONS
    reference = run(str(reference_dir), backend, 0.0)
    if backend == "simulator":
        assert log.read_bytes() == (reference_dir / "trials.jsonl").read_bytes()
    else:   # wall-clock times differ; the decisions and losses do not
        keep = ["event", "trial_id", "resource", "loss"]
        assert load_log(log)[keep].equals(reference.log[keep])
    assert result.best_config == reference.best_config


@pytest.mark.parametrize("backend", ["simulator", "sequential"])
def test_resume_after_sigkill(tmp_path, backend):
    start_and_kill(tmp_path / "run", backend)
    check_resumed(tmp_path / "run", tmp_path / "reference", backend)


def test_partial_last_line_is_repaired_and_resume_is_exact(tmp_path):
    reference = tmp_path / "reference"
    run(str(reference), "simulator", 0.0)
    lines = (reference / "trials.jsonl").read_text().splitlines(keepends=True)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # a run "killed" after 40 lines, in the middle of writing the 41st
    (run_dir / "trials.jsonl").write_text("".join(lines[:40]) + lines[40][:17])
    result = run(str(run_dir), "simulator", 0.0)
    assert (run_dir / "trials.jsonl").read_bytes() == (reference / "trials.jsonl").read_bytes()
    assert result.n_replayed == sum('"event":"result"' in l or '"event":"failure"' in l for l in lines[:40])
    # resuming a finished run changes nothing
    again = run(str(run_dir), "simulator", 0.0)
    assert (run_dir / "trials.jsonl").read_bytes() == (reference / "trials.jsonl").read_bytes()
    assert again.n_replayed == N_EVALUATIONS


def test_resume_refuses_a_different_run(tmp_path):
    run(str(tmp_path), "simulator", 0.0, seed=7)
    with pytest.raises(ValueError, match="cannot resume .* seed: logged 7, now 8"):
        run(str(tmp_path), "simulator", 0.0, seed=8)
    # a log whose decisions do not match what the same settings produce
    path = tmp_path / "trials.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, l in enumerate(lines) if '"event":"start"' in l and i > 5)
    record = json.loads(lines[index])
    record["trial_id"] += 1000
    lines[index] = json.dumps(record, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(ResumeMismatch, match="other settings"):
        run(str(tmp_path), "simulator", 0.0, seed=7)
    # resume=False starts over
    objective = SlowTabular()
    scheduler = make_scheduler("asha-promotion", objective.space, 1, 27, eta=3, seed=7, brackets=2)
    fresh = run_hpo(objective, scheduler, make_backend("simulator", 3), tmp_path, seed=7,
                    stop=StopCriteria(max_evaluations=10), resume=False, progress=False)
    assert fresh.n_replayed == 0 and len(completions(path)) == 10


def test_load_log_columns(tmp_path):
    result = run(str(tmp_path), "simulator", 0.0)
    log = load_log(tmp_path)
    header = read_events(tmp_path / "trials.jsonl")[0]
    assert header["event"] == "run" and header["seed"] == 7 and header["n_workers"] == 3
    assert header["scheduler"]["variant"] == "promotion" and header["objective"]["name"] == "SlowTabular"
    for column in ("event", "trial_id", "resource", "previous_resource", "bracket", "rung", "loss", "cost",
                   "started", "time", "worker", "reason", "config_learning_rate", "config_width",
                   "config_dropout", "info_test_error", "info_row"):
        assert column in log.columns, column
    assert set(log.event) <= {"start", "promote", "result", "failure", "continue", "pause", "stop", "completed"}
    assert log.config_width.notna().all()                    # config on every row of a trial
    results = log[log.event == "result"]
    assert results.loss.notna().all() and (results.cost > 0).all() and results.time.is_monotonic_increasing
    assert result.log.equals(log)
    # incumbent trajectory: non-increasing, ends at the best loss of any result
    trajectory = result.trajectory
    assert trajectory.best_loss.is_monotonic_decreasing
    assert trajectory.best_loss.iloc[-1] == results.loss.min()
    top = results[results.resource == results.resource.max()]
    assert result.best_loss == top.loss.min() and result.best_resource == 27
