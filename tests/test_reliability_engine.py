"""Engine reliability (issue 26): time-outs, a full disk, bad outcomes and logs, recorded settings.

Each test reproduces one hole measured on main 670b48a and fails there.
"""
from __future__ import annotations

import errno
import inspect
import json
import math
import sys
import time

import pytest
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.objectives.synthetic import BraninMF, FaultInjector
from hpo_kit.objectives.tabular import TabularObjective, synthetic_table
from hpo_kit.runlog import RunLog, load_log
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Evaluation, Job
from hpo_kit.tuner import describe_settings, run_hpo


@pytest.fixture(scope="module")
def table_objective():
    return TabularObjective(synthetic_table(n_configs=60, n_epochs=9, seed=3))


def fifo(objective, n_trials, seed=0):
    return FIFOScheduler(RandomSearcher(objective.space, seed), objective.max_resource, objective.max_resource,
                         max_trials=n_trials)


# -- 1. Dask time-outs ------------------------------------------------------------------------------
def hanging(seconds: float) -> FaultInjector:
    """Trial 0 sleeps ``seconds`` and then returns a good-looking loss; the others are fine."""
    return FaultInjector(BraninMF(max_resource=1), period=10**6, kinds=("hang",), hang_seconds=seconds,
                         hang_cost=1.0)


def test_dask_job_that_ran_past_its_time_out_is_a_time_out_even_when_read_late():
    """The loop was busy (a blocking worker restart, in the measured runs) while a job hung on
    past its time-out and then returned: the late read must not log it as a good result."""
    from hpo_kit.backends.dask_backend import DaskBackend

    objective = hanging(1.2)
    backend = DaskBackend(n_workers=1, processes=False, timeout=0.4)
    backend.start(objective, 0)
    try:
        backend.submit(Job(0, dict(objective.space.sample_configuration()), 1))
        time.sleep(2.0)                      # the run loop is elsewhere until the job is long done
        finished = backend.wait_one()
    finally:
        backend.close()
    assert not isinstance(finished.outcome, Evaluation), finished.outcome
    assert finished.outcome.reason.startswith("time-out"), finished.outcome.reason
    assert finished.outcome.cost == pytest.approx(1.2, abs=0.3)   # its own running time, measured on the worker


def test_dask_worker_restart_after_a_time_out_does_not_block_the_run(monkeypatch):
    """Restarting a hung worker took up to ~120 s inside wait_one; the other workers must go on."""
    from hpo_kit.backends.dask_backend import DaskBackend

    objective = hanging(2.0)
    backend = DaskBackend(n_workers=2, processes=False, timeout=0.4)
    # thread workers are never restarted; pretend they are processes to reach the restart path
    monkeypatch.setattr(DaskBackend, "_owns_processes", property(lambda self: True))
    backend.start(objective, 0)
    restarts = []

    def slow_restart(workers, timeout=None, raise_for_error=True):
        restarts.append(list(workers))
        time.sleep(6.0)                      # as a restart that waits for Dask's restart time-out
        return {w: "timed out" for w in workers}

    monkeypatch.setattr(backend._client, "restart_workers", slow_restart)
    config = dict(objective.space.sample_configuration())
    try:
        started = time.perf_counter()
        backend.submit(Job(0, config, 1))          # hangs: timed out after 0.4 s
        first = backend.wait_one()
        timed_out_after = time.perf_counter() - started
        assert backend.free_workers == 1       # the restarting worker's slot waits for it to be back
        backend.submit(Job(1, config, 1))          # a good job on the other worker
        second = backend.wait_one()
        both_after = time.perf_counter() - started
    finally:
        backend.close()
    assert first.outcome.reason.startswith("time-out")
    assert isinstance(second.outcome, Evaluation) and second.job.trial_id == 1
    assert restarts, "the timed-out job's worker was not restarted"
    assert timed_out_after < 3.0 and both_after < 4.0, (timed_out_after, both_after)


# -- 2. a full disk ----------------------------------------------------------------------------------
class _FullDisk:
    """A log file on a disk that fills after ``lines`` lines: writes and the final flush fail."""

    def __init__(self, file, lines: int):
        self.file, self.lines, self.full = file, lines, False

    def write(self, text):
        if self.lines <= 0:
            self.full = True
            raise OSError(errno.ENOSPC, "No space left on device")
        self.lines -= 1
        return self.file.write(text)

    def flush(self):
        self.file.flush()

    def fileno(self):
        return self.file.fileno()

    @property
    def closed(self):
        return self.file.closed

    def close(self):
        self.file.close()
        if self.full:                      # the buffered rest cannot be written either
            raise OSError(errno.ENOSPC, "No space left on device")


def test_a_disk_that_fills_during_a_run_keeps_the_first_error_naming_the_file(table_objective, tmp_path,
                                                                                 monkeypatch):
    import hpo_kit.tuner as tuner

    class FillingLog(RunLog):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._file = _FullDisk(self._file, lines=7)

    monkeypatch.setattr(tuner, "RunLog", FillingLog)
    with pytest.raises(OSError) as raised:
        run_hpo(table_objective, fifo(table_objective, 20), SimulatorBackend(2), tmp_path, seed=0, progress=False)
    message = str(raised.value)
    assert "cannot write" in message and str(tmp_path / "trials.jsonl") in message, message
    assert "disk is full" in message
    notes = " ".join(getattr(raised.value, "__notes__", []))
    assert "while closing" in notes and "trials.jsonl" in notes      # the second error is kept as a note


def test_closing_a_log_on_a_full_disk_names_the_file(tmp_path):
    log = RunLog(tmp_path / "trials.jsonl", fsync=False)
    log._file = _FullDisk(log._file, lines=0)
    with pytest.raises(OSError, match="cannot write"):
        log.write({"event": "run"})
    with pytest.raises(OSError, match=r"cannot write .*trials\.jsonl.*disk is full"):
        log.close()


# -- 3. outcomes that are not results ---------------------------------------------------------------
class _Objective:
    """One float hyperparameter; trial 1 misbehaves as ``how`` says."""

    def __init__(self, how: str):
        self.space = ConfigurationSpace(seed=0)
        self.space.add(Float("x", (0.0, 1.0)))
        self.min_resource = self.max_resource = 1
        self.how = how

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        if trial_id == 1 and self.how == "exit":
            sys.exit(2)
        if trial_id == 1 and self.how == "info":
            return Evaluation(loss=0.5, cost=1.0, info="x")
        return Evaluation(loss=float(config["x"]), cost=1.0)


@pytest.mark.parametrize("backend", ["sequential", "simulator"])
def test_sys_exit_in_an_objective_is_that_evaluation_s_failure(backend, tmp_path):
    objective = _Objective("exit")
    engine = SequentialBackend() if backend == "sequential" else SimulatorBackend(2)
    result = run_hpo(objective, fifo(objective, 4), engine, tmp_path, seed=0, progress=False)
    outcomes = result.log[result.log.event.isin(["result", "failure"])].set_index("trial_id")
    assert sorted(outcomes.index) == [0, 1, 2, 3]
    assert outcomes.loc[1, "event"] == "failure" and "sys.exit(2)" in outcomes.loc[1, "reason"]
    assert (outcomes.drop(index=1).event == "result").all()


def test_an_info_that_is_not_a_dict_is_a_failure_not_a_result(tmp_path):
    objective = _Objective("info")
    result = run_hpo(objective, fifo(objective, 3), SimulatorBackend(1), tmp_path, seed=0, progress=False)
    row = result.log[(result.log.trial_id == 1) & result.log.event.isin(["result", "failure"])].iloc[0]
    assert row.event == "failure" and "info is 'x'" in row.reason


def test_a_searcher_on_another_search_space_is_refused_before_any_work(table_objective, tmp_path):
    other = ConfigurationSpace(seed=0)
    other.add(Float("momentum", (0.0, 1.0)))
    scheduler = FIFOScheduler(RandomSearcher(other, 0), 9, 9, max_trials=3)
    with pytest.raises(ValueError, match=r"search space does not fit.*proposes \['momentum'\].*never sets"):
        run_hpo(table_objective, scheduler, SimulatorBackend(1), tmp_path, seed=0, progress=False)
    assert not (tmp_path / "trials.jsonl").exists()
    wider = ConfigurationSpace(seed=0)
    for name in table_objective.space.keys():
        hp = table_objective.space[name]
        wider.add(Float(name, (float(hp.lower) - 1.0, float(hp.upper)), log=False))
    with pytest.raises(ValueError, match="outside the objective's"):
        run_hpo(table_objective, FIFOScheduler(RandomSearcher(wider, 0), 9, 9, max_trials=3), SimulatorBackend(1),
                tmp_path, seed=0, progress=False)


# -- 4. a damaged log line ---------------------------------------------------------------------------
@pytest.mark.parametrize("field, value", [("loss", None), ("loss", "0.3"), ("time", None), ("config", "x=1")])
def test_a_damaged_log_line_is_named_with_file_and_line(table_objective, tmp_path, field, value):
    run_hpo(table_objective, fifo(table_objective, 4), SimulatorBackend(1), tmp_path, seed=0, progress=False)
    path = tmp_path / "trials.jsonl"
    lines = path.read_text().splitlines()
    kind = "start" if field == "config" else "result"
    number = next(i for i, line in enumerate(lines) if json.loads(line)["event"] == kind)
    record = json.loads(lines[number])
    record[field] = value
    lines[number] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"trials\.jsonl: line {number + 1} \({kind} event\) has {field}="):
        run_hpo(table_objective, fifo(table_objective, 8), SimulatorBackend(1), tmp_path, seed=0, progress=False)
    with pytest.raises(ValueError, match=rf"line {number + 1}"):
        load_log(tmp_path)


# -- 5. every setting that changes results is in the run's identity ----------------------------------
class RatedFaults(FaultInjector):
    """A subclass with a setting of its own that the inherited describe() does not know."""

    def __init__(self, inner, rate: float = 0.2):
        super().__init__(inner, period=3, kinds=("raise",))
        self.rate = rate

    def fault_of(self, trial_id):
        return "raise" if trial_id is not None and (trial_id * 0.618) % 1.0 < self.rate else None


def test_a_subclass_s_own_setting_is_recorded_and_checked_on_resume(tmp_path):
    objective = RatedFaults(BraninMF(max_resource=1), rate=0.2)
    run_hpo(objective, fifo(objective, 5), SimulatorBackend(1), tmp_path, seed=0, progress=False)
    again = RatedFaults(BraninMF(max_resource=1), rate=0.5)
    with pytest.raises(ValueError, match=r"objective\.rate: logged 0\.2, now 0\.5"):
        run_hpo(again, fifo(again, 10), SimulatorBackend(1), tmp_path, seed=0, progress=False)


def test_a_subclass_setting_stored_under_another_name_is_an_error_not_a_silent_gap():
    class Hidden(FaultInjector):
        def __init__(self, inner, rate: float = 0.2):
            super().__init__(inner)
            self.fault_share = rate

    with pytest.raises(TypeError, match=r"takes the argument 'rate'.*unrecorded_settings"):
        describe_settings(Hidden(BraninMF(max_resource=1)))

    class Declared(Hidden):
        unrecorded_settings = ("rate",)

    assert "rate" not in describe_settings(Declared(BraninMF(max_resource=1)))


def test_fault_injector_records_the_settings_that_decide_its_outcomes():
    """hang_seconds decides whether a hang is a time-out; hang_cost is the simulator's clock."""
    base = describe_settings(FaultInjector(BraninMF(max_resource=1), hang_seconds=0.3, hang_cost=10.0))
    for change in ({"hang_seconds": 0.1}, {"hang_cost": 5.0}):
        other = describe_settings(FaultInjector(BraninMF(max_resource=1), **{"hang_seconds": 0.3, "hang_cost": 10.0,
                                                                             **change}))
        assert other != base, change
    # the pause that makes a run killable part-way changes no outcome: not recorded (a resume may differ)
    assert describe_settings(FaultInjector(BraninMF(max_resource=1), delay=0.5)) == \
        describe_settings(FaultInjector(BraninMF(max_resource=1)))


def _constructors():
    """Every scheduler and searcher class the kit ships, with a factory of keyword arguments."""
    from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband
    from hpo_kit.schedulers.hyperband import SynchronousHyperband
    from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher
    from hpo_kit.searchers.kde import KDESearcher
    from hpo_kit.searchers.optuna_searcher import OptunaSearcher

    return {
        FIFOScheduler: {}, AsynchronousHyperband: {}, SynchronousHyperband: {},
        RandomSearcher: {}, KDESearcher: {}, GPSearcher: {}, GPMultiFidelitySearcher: {}, OptunaSearcher: {},
    }


#: for each constructor argument: (baseline, another value that changes what a run does)
ALTERNATIVES = {
    "min_resource": (1, 3), "max_resource": (27, 9), "max_trials": (None, 5), "eta": (3, 2),
    "variant": ("promotion", "stopping"), "brackets": (1, 2), "seed": (0, 1),
    "promotion_rule": ("asha_floor", "interpolated"), "n_iterations": (None, 2),
    "overlap_brackets": (True, False), "bracket_rule": ("li", "hpbandster"),
    "on_exhausted": ("repeat", "stop"), "sampler": ("tpe", "random"),
}


def _space():
    space = ConfigurationSpace(seed=0)
    space.add([Float("x", (0.0, 1.0)), Float("y", (1e-3, 1.0), log=True)])
    return space


def _candidates(space, n=6):
    return [dict(c) for c in space.sample_configuration(n)]


def _build(cls, arguments):
    from hpo_kit.schedulers.base import Scheduler

    space = _space()
    if issubclass(cls, Scheduler):
        arguments = {"min_resource": 1, "max_resource": 27, **arguments}
        return cls(RandomSearcher(space, 0), **arguments)
    arguments = {"seed": 0, **arguments}
    if "on_exhausted" in arguments:
        arguments.setdefault("candidates", _candidates(space))
    return cls(space, **arguments)


def test_every_constructor_argument_of_every_scheduler_and_searcher_is_in_the_run_identity():
    """Walks the signatures: a new argument without an entry here fails, and so does one whose
    change leaves the logged settings equal (a resume with it changed would mix two runs)."""
    from hpo_kit.searchers.gp_searcher import GPSearcherConfig
    from hpo_kit.searchers.kde import KDEConfig

    structural = {"self", "searcher", "space", "sampler_options"}
    unchecked = []
    for cls in _constructors():
        for name, parameter in inspect.signature(cls.__init__).parameters.items():
            if name in structural or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if name == "candidates":
                space = _space()
                a, b = _candidates(space, 6), _candidates(space, 7)
                base, other = _build(cls, {"candidates": a}), _build(cls, {"candidates": b})
            elif name == "config":
                config_cls = KDEConfig if "KDE" in cls.__name__ else GPSearcherConfig
                for field in config_cls.__dataclass_fields__.values():
                    default = getattr(config_cls(), field.name)
                    changed = _changed(default)
                    if changed is None:
                        unchecked.append(f"{cls.__name__}.config.{field.name}")
                        continue
                    try:
                        other_config = config_cls(**{field.name: changed})
                        other_config.validate()
                    except (ValueError, TypeError):
                        continue        # no other valid value of this type: nothing can differ
                    assert describe_settings(_build(cls, {})) != describe_settings(
                        _build(cls, {"config": other_config})), f"{cls.__name__}.config.{field.name}"
                continue
            elif name in ALTERNATIVES:
                a, b = ALTERNATIVES[name]
                base, other = _build(cls, {name: a}), _build(cls, {name: b})
            else:
                unchecked.append(f"{cls.__name__}.{name}")
                continue
            assert describe_settings(base) != describe_settings(other), f"{cls.__name__}({name}=...) not recorded"
    assert not unchecked, f"give these constructor arguments an alternative value in this test: {unchecked}"


def _changed(value):
    """Another value of the same kind (None when the test cannot tell one)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5 if value else 0.5
    if value is None:
        return 3
    if isinstance(value, str):
        return value + "_other"
    return None


def test_failures_from_a_nan_cost_log_stay_readable(tmp_path):
    """A NaN cost is written as null (unknown) and must stay readable, unlike a null loss."""
    table = synthetic_table(n_configs=20, n_epochs=3, seed=1)
    objective = TabularObjective(table)
    run_hpo(objective, fifo(objective, 3), SimulatorBackend(1), tmp_path, seed=0, progress=False)
    path = tmp_path / "trials.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for record in lines:
        if record["event"] == "result":
            record["cost"] = None
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    frame = load_log(tmp_path)
    assert frame[frame.event == "result"].cost.isna().all() and math.isfinite(frame.loss.dropna().iloc[0])


def test_resuming_after_an_edit_of_an_objective_without_describe_is_refused(tmp_path, monkeypatch):
    """An objective that does not describe itself is recorded by its source code: after its evaluate()
    changed, a resume is refused instead of replaying the old losses as if they were the new ones."""
    import importlib
    import sys as _sys

    from ConfigSpace import ConfigurationSpace, Float

    from hpo_kit.backends.sequential import SequentialBackend
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.searchers.random_search import RandomSearcher
    from hpo_kit.tuner import run_hpo

    module = tmp_path / "my_objective_mod.py"
    source = '''
from ConfigSpace import ConfigurationSpace, Float
from hpo_kit.trial import Evaluation

class MyObjective:
    space = ConfigurationSpace({"x": Float("x", (0.0, 1.0))})
    min_resource, max_resource = 1, 1

    def evaluate(self, config, resource, seed, **_):
        return Evaluation(loss=config["x"] + OFFSET, cost=1.0)
'''
    module.write_text(source.replace("OFFSET", "0.0"))
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("my_objective_mod")

    def run(objective):
        scheduler = FIFOScheduler(RandomSearcher(objective.space, seed=0), 1, 1, max_trials=3)
        return run_hpo(objective, scheduler, SequentialBackend(), tmp_path / "run", 0, progress=False)

    run(mod.MyObjective())
    module.write_text(source.replace("OFFSET", "100.0"))
    mod = importlib.reload(mod)
    try:
        with pytest.raises(ValueError, match="different run"):
            run(mod.MyObjective())
    finally:
        _sys.modules.pop("my_objective_mod", None)


def test_a_file_as_the_run_folder_is_refused_naming_it(tmp_path):
    """It ended in a bare FileExistsError (bench/bad_inputs.py, issue 26)."""
    objective = BraninMF(max_resource=3)
    path = tmp_path / "not_a_folder"
    path.write_text("x")
    with pytest.raises(ValueError, match="run_dir must be a folder.*is a file"):
        run_hpo(objective, FIFOScheduler(RandomSearcher(objective.space, 0), 1, 3, max_trials=2), SequentialBackend(),
                path, seed=0, progress=False)
    assert path.read_text() == "x"


@pytest.mark.parametrize("curve", [("a", 0.1), "0.3", 5, (0.2, None)])
def test_a_curve_that_is_not_numbers_is_a_failure_not_a_result(tmp_path, curve):
    """A junk learning curve was logged as a good result (bench/bad_inputs.py, issue 26)."""
    from hpo_kit.backends.sequential import checked_evaluation

    outcome = checked_evaluation(Evaluation(loss=0.1, cost=0.1, curve=curve), lambda: 0.0)
    assert not isinstance(outcome, Evaluation) and "curve is" in outcome.reason
    good = checked_evaluation(Evaluation(loss=0.1, cost=0.1, curve=(0.3, 0.2, math.nan)), lambda: 0.0)
    assert isinstance(good, Evaluation)
