"""Run evaluations one at a time in this process, and the helper every backend uses to run one safely."""
from __future__ import annotations

import math
import time

from hpo_kit.backends.base import Backend, Finished, check_timeout
from hpo_kit.objectives.base import Objective
from hpo_kit.trial import Evaluation, Failure, Job, as_real, trial_seed


def evaluate_safely(objective: Objective, job: Job, run_seed: int, *, wall_clock_costs: bool = True) -> Evaluation | Failure:
    """Evaluate ``job`` and turn every way it can go wrong into a :class:`Failure`.

    Exceptions (not KeyboardInterrupt), ``sys.exit()`` inside the objective, a return value that is
    not an ``Evaluation``, an ``info`` that is not a dict and NaN/inf losses become failures, so one
    broken configuration never ends a run. A failure's cost is the
    wall time spent, or 0 when ``wall_clock_costs=False`` (the simulator: wall time would make its
    clock non-deterministic). A NaN loss keeps the evaluation's own cost when that is finite.
    Every job of a trial gets the same seed, :func:`hpo_kit.trial.trial_seed`.
    """
    started = time.perf_counter()

    def spent() -> float:
        return time.perf_counter() - started if wall_clock_costs else 0.0

    try:
        evaluation = objective.evaluate(
            dict(job.config), job.resource, trial_seed(run_seed, job.trial_id),
            trial_id=job.trial_id, previous_resource=job.previous_resource,
        )
    except Exception as error:  # noqa: BLE001 - any error of one evaluation must not end the run
        return Failure(f"{type(error).__name__}: {error}", cost=spent())
    except SystemExit as error:
        # sys.exit() in an objective (a script's habit) ends this evaluation, not the tuning run;
        # KeyboardInterrupt still stops the run (the user asked for that).
        return Failure(f"SystemExit: the objective called sys.exit({error.code!r})", cost=spent())
    if not isinstance(evaluation, Evaluation):
        return Failure(f"objective returned {type(evaluation).__name__}, expected Evaluation", cost=spent())
    return checked_evaluation(evaluation, spent)


def checked_evaluation(evaluation: Evaluation, spent) -> Evaluation | Failure:
    """The evaluation with plain float loss and cost, or the Failure that says what is wrong with it.

    numpy scalars (``np.float32`` losses) are real numbers and accepted; a bool, None or text is
    not a loss. The cost must be seconds >= 0; NaN means "unknown" (tables without epoch times) and
    is kept, None, negative or infinite costs are the objective's bug and fail the evaluation.
    """
    loss, cost = as_real(evaluation.loss), as_real(evaluation.cost)
    if evaluation.info is not None and not isinstance(evaluation.info, dict):
        # the log's ``info`` column expands a dict into info_<key> columns; anything else is a bug
        return Failure(f"info is {evaluation.info!r} ({type(evaluation.info).__name__}), expected a dict of "
                       "extras (e.g. {'test_error': 0.05}) or None", cost=spent())
    if loss is None:
        return Failure(f"loss is {evaluation.loss!r} ({type(evaluation.loss).__name__}), expected a real number",
                       cost=spent())
    curve = evaluation.curve
    if curve is not None and (isinstance(curve, (str, bytes)) or not hasattr(curve, "__len__")
                              or any(as_real(v) is None for v in curve)):
        # curves feed the learning-curve analyses; text or None inside one is the objective's bug
        return Failure(f"curve is {evaluation.curve!r}, expected a sequence of real numbers (the loss after each unit "
                       "of resource) or None", cost=spent())
    if cost is None or cost < 0 or cost == math.inf:
        return Failure(f"cost is {evaluation.cost!r} ({type(evaluation.cost).__name__}), expected seconds >= 0 "
                       "(NaN when unknown)", cost=spent())
    if not math.isfinite(loss):
        return Failure(f"loss is {loss!r}", cost=cost if math.isfinite(cost) else spent())
    if type(evaluation.loss) is float and type(evaluation.cost) is float:
        return evaluation
    return Evaluation(loss=loss, cost=cost, curve=evaluation.curve, info=evaluation.info)


class SequentialBackend(Backend):
    """One worker: the job runs in this process when the tuner waits for it.

    ``timeout`` (seconds): an evaluation in this process cannot be interrupted safely, so one that
    runs longer is marked failed *after* it returns (use LocalProcessBackend to really cut it off).
    """

    n_workers = 1

    def __init__(self, timeout: float | None = None):
        self.timeout = check_timeout(timeout)
        self._objective: Objective | None = None
        self._run_seed = 0
        self._job: Job | None = None
        self._t0 = time.perf_counter()

    def start(self, objective: Objective, run_seed: int) -> None:
        self._objective = objective
        self._run_seed = run_seed
        self._t0 = time.perf_counter()

    def submit(self, job: Job) -> None:
        if self._job is not None:
            raise RuntimeError("SequentialBackend has one worker and it is busy; call wait_one first")
        self._job = job

    def wait_one(self) -> Finished:
        if self._job is None:
            raise RuntimeError("wait_one called while no job is running")
        if self._objective is None:
            raise RuntimeError("call start(objective, run_seed) before submitting jobs")
        job, self._job = self._job, None
        started = self.now()
        outcome = evaluate_safely(self._objective, job, self._run_seed)
        finished = self.now()
        if self.timeout is not None and finished - started > self.timeout:
            outcome = Failure(f"time-out: ran {finished - started:.1f} s > timeout {self.timeout} s", cost=finished - started)
        return Finished(job, outcome, started, finished, worker=0)

    @property
    def free_workers(self) -> int:
        return 0 if self._job is not None else 1

    def now(self) -> float:
        return time.perf_counter() - self._t0
