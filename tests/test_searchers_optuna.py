"""OptunaSearcher: seeding, space mapping, ask-and-tell bookkeeping, multi-fidelity, engine runs."""
from __future__ import annotations

import logging
import math

import numpy as np
import optuna
import pytest
from ConfigSpace import (Categorical, Configuration, ConfigurationSpace, Float, ForbiddenEqualsClause, Integer,
                         OrdinalHyperparameter)

from hpo_kit.backends.simulator import SimulatorBackend
from hpo_kit.objectives.synthetic import BraninMF, MixedSpaceMF
from hpo_kit.schedulers.hyperband import SynchronousHyperband
from hpo_kit.searchers.base import Searcher
from hpo_kit.searchers.optuna_searcher import OPTUNA_METHODS, SAMPLERS, OptunaSearcher, make_optuna_scheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.stopping import StopCriteria
from hpo_kit.tuner import run_hpo

SAMPLER_NAMES = list(SAMPLERS)


def needs(sampler: str) -> None:
    if sampler == "cmaes":
        pytest.importorskip("cmaes", reason="Optuna's CMA-ES needs the 'cmaes' package (pip install cmaes==0.13.1)")


def drive(searcher: Searcher, loss, n: int, resource: int = 27) -> list[dict]:
    """Suggest / pend / result ``n`` times, as the FIFO scheduler does."""
    configs = []
    for t in range(n):
        config = searcher.suggest()
        searcher.on_pending(t, config, resource)
        searcher.on_result(t, config, resource, loss(config))
        configs.append(config)
    return configs


def mixed_loss(config: dict) -> float:
    return float(MixedSpaceMF().evaluate(config, 27, 0).loss)


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_same_seed_same_suggestions_different_seed_different(sampler):
    needs(sampler)
    space = MixedSpaceMF().space
    first = drive(OptunaSearcher(space, 5, sampler=sampler), mixed_loss, 15)
    assert first == drive(OptunaSearcher(space, 5, sampler=sampler), mixed_loss, 15)
    assert first != drive(OptunaSearcher(space, 6, sampler=sampler), mixed_loss, 15)


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_configurations_are_valid_and_inactive_hyperparameters_are_absent(sampler):
    needs(sampler)
    space = MixedSpaceMF().space
    searcher = OptunaSearcher(space, 0, sampler=sampler)
    assert isinstance(searcher, Searcher)
    configs = drive(searcher, mixed_loss, 40)
    for config in configs:
        Configuration(space, values=config)  # raises if the active set or a value is wrong
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert isinstance(config["n_layers"], int) and config["width"] in (16, 32, 64, 128, 256)
    # Optuna's trials hold only the active hyperparameters (so inactive ones do not enter its model);
    # the ordinal is asked as its position in the sequence
    for trial, config in zip(searcher._study.trials, configs):
        assert set(trial.params) == set(config)
        assert (16, 32, 64, 128, 256)[trial.params["width"]] == config["width"]
    assert {c["optimizer"] for c in configs} == {"adam", "sgd", "rmsprop"}


def test_distributions_follow_the_space():
    space = ConfigurationSpace()
    space.add([Float("lr", (1e-5, 1.0), log=True), Integer("units", (8, 512), log=True), Integer("k", (1, 5)),
               Float("p", (0.0, 0.5)), Categorical("act", ["relu", "tanh"]), OrdinalHyperparameter("w", [1, 10, 100])])
    d = OptunaSearcher(space, 0)._distributions
    assert isinstance(d["lr"], optuna.distributions.FloatDistribution) and d["lr"].log and d["lr"].low == 1e-5
    assert isinstance(d["units"], optuna.distributions.IntDistribution) and d["units"].log
    assert (d["k"].low, d["k"].high, d["k"].log) == (1, 5, False)
    assert not d["p"].log and d["p"].high == 0.5
    assert d["act"].choices == ("relu", "tanh")
    assert (d["w"].low, d["w"].high) == (0, 2)
    configs = drive(OptunaSearcher(space, 0, sampler="random"), lambda c: 0.0, 300)
    lrs = np.log10([c["lr"] for c in configs])
    assert lrs.min() < -4.3 and lrs.max() > -0.7  # log-uniform over [1e-5, 1]
    assert {c["w"] for c in configs} == {1, 10, 100} and {c["k"] for c in configs} == {1, 2, 3, 4, 5}


def test_forbidden_configurations_are_never_suggested():
    space = ConfigurationSpace()
    space.add([Categorical("a", ["x", "y"], default="y"), Categorical("b", ["x", "y"]), Float("c", (0.0, 1.0))])
    space.add(ForbiddenEqualsClause(space["a"], "x"))
    searcher = OptunaSearcher(space, 0, sampler="random")
    configs = drive(searcher, lambda c: c["c"], 30)
    assert all(c["a"] == "y" for c in configs)
    states = [t.state for t in searcher._study.trials]
    assert optuna.trial.TrialState.FAIL in states  # the forbidden proposals were told as failed


def test_failures_are_told_as_fail_and_results_as_complete():
    space = BraninMF().space
    searcher = OptunaSearcher(space, 0)
    a, b = searcher.suggest(), searcher.suggest()
    searcher.on_pending(0, a, 27)
    searcher.on_pending(1, b, 27)
    searcher.on_failure(1, b, 27)
    searcher.on_result(0, a, 27, 1.5)
    t0, t1 = searcher._study.trials
    assert t0.state == optuna.trial.TrialState.COMPLETE and t0.value == 1.5
    assert t1.state == optuna.trial.TrialState.FAIL
    c = searcher.suggest()
    searcher.on_result(2, c, 27, math.nan)  # a NaN loss is a failure too
    assert searcher._study.trials[2].state == optuna.trial.TrialState.FAIL


def test_multi_fidelity_keeps_the_loss_at_the_highest_resource():
    searcher = OptunaSearcher(BraninMF().space, 0)
    config = searcher.suggest()
    searcher.on_pending(0, config, 1)
    searcher.on_result(0, config, 1, 10.0)
    assert searcher._study.trials[0].value == 10.0
    other = searcher.suggest()  # still running in Optuna while trial 0 is promoted
    searcher.on_pending(1, other, 1)
    searcher.on_result(0, config, 3, 4.0)   # promoted: the higher resource replaces the value
    searcher.on_result(0, config, 1, 99.0)  # a lower resource never overrides it
    searcher.suggest()                       # the replacement is applied before asking
    assert searcher.n_rebuilds == 1
    trials = searcher._study.trials
    assert trials[0].value == 4.0 and trials[0].params == config
    assert trials[1].state == optuna.trial.TrialState.RUNNING  # pending trials survive the rebuild ...
    searcher.on_result(1, other, 1, 7.0)                         # ... and can still be told
    assert searcher._study.trials[1].value == 7.0


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_inside_hyperband_through_the_engine(tmp_path, sampler):
    needs(sampler)
    objective = BraninMF()
    searcher = OptunaSearcher(objective.space, 0, sampler=sampler)
    scheduler = SynchronousHyperband(searcher, 1, 27, eta=3, n_iterations=1)
    result = run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path, seed=0, progress=False)
    assert result.stop_reason == "scheduler finished" and math.isfinite(result.best_loss)
    results = result.results
    top = results.groupby("trial_id")["resource"].max()
    # every trial's Optuna value is its loss at the highest resource it reached
    for trial_id, number in searcher._number_of.items():
        expected = results[(results.trial_id == trial_id) & (results.resource == top[trial_id])]["loss"].iloc[0]
        assert searcher._study.trials[number].value == pytest.approx(expected)
    assert searcher.n_rebuilds > 0  # promotions happened and were applied


@pytest.mark.parametrize("method", list(OPTUNA_METHODS))
def test_fifo_runs_are_reproducible_and_resume(tmp_path, method):
    needs("cmaes" if method == "cmaes" else "")
    objective = MixedSpaceMF()

    def run(folder, n):
        scheduler = make_optuna_scheduler(method, objective.space, 1, 27, seed=3, max_trials=24)
        return run_hpo(objective, scheduler, SimulatorBackend(2), tmp_path / folder, seed=0, progress=False,
                       stop=StopCriteria(max_evaluations=n))

    full = run("full", 24)
    again = run("again", 24)
    assert full.log.equals(again.log)
    run("resumed", 10)
    resumed = run("resumed", 24)  # continues the 10-evaluation log
    assert resumed.n_replayed > 0
    assert resumed.log.drop(columns=["time"], errors="ignore").equals(full.log.drop(columns=["time"], errors="ignore"))


def test_tpe_beats_random_search_on_branin():
    """Over 6 seeds, TPE's best loss after 40 evaluations is below random search's in most seeds."""
    objective = BraninMF()

    def best(searcher):
        return min(float(objective.evaluate(c, 27, 0).loss)
                   for c in drive(searcher, lambda c: float(objective.evaluate(c, 27, 0).loss), 40))

    wins = sum(best(OptunaSearcher(objective.space, s, n_startup_trials=10)) < best(RandomSearcher(objective.space, s))
               for s in range(6))
    assert wins >= 5


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_cmaes_samples_categoricals_with_its_independent_sampler_without_warnings(recwarn):
    needs("cmaes")
    space = ConfigurationSpace()
    space.add([Float("x", (-2.0, 2.0)), Float("y", (-2.0, 2.0)), Categorical("c", ["a", "b", "c"])])
    # Optuna's logger does not propagate to the root logger (so pytest's caplog never sees it):
    # listen on it directly, at its own level as the searcher left it
    handler = _Records()
    logging.getLogger("optuna").addHandler(handler)
    try:
        searcher = OptunaSearcher(space, 0, sampler="cmaes")
        configs = drive(searcher, lambda c: c["x"] ** 2 + c["y"] ** 2 + (c["c"] != "a"), 40)
        quiet = list(handler.records)
        # with Optuna's default it warns about the independent sampling of "c" (proves we listen)
        loud = drive(OptunaSearcher(space, 0, sampler="cmaes", warn_independent_sampling=True), lambda c: 0.0, 3)
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    warned = [r.getMessage() for r in handler.records]
    assert quiet == [] and len(loud) == 3 and warned and all("independent" in m for m in warned)
    assert not [w for w in recwarn if "optuna" in str(w.filename).lower()]
    assert {c["c"] for c in configs} == {"a", "b", "c"}  # uniform random, not optimised
    assert searcher.sampler_options["warn_independent_sampling"] is False


def test_optuna_logging_is_silenced_at_its_source_only():
    root_level = logging.getLogger().level
    optuna.logging.set_verbosity(optuna.logging.INFO)
    OptunaSearcher(BraninMF().space, 0)
    assert optuna.logging.get_verbosity() == optuna.logging.WARNING
    assert logging.getLogger().level == root_level


def test_bad_arguments_are_rejected_with_the_allowed_values():
    space = BraninMF().space
    with pytest.raises(ValueError, match=r"sampler must be one of \['tpe', 'cmaes', 'random'\], got 'gp'"):
        OptunaSearcher(space, 0, sampler="gp")
    with pytest.raises(ValueError, match=r"does not take option\(s\) \['n_startup'\]; allowed: .*n_startup_trials"):
        OptunaSearcher(space, 0, n_startup=3)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        OptunaSearcher(space, -1)
    with pytest.raises(ValueError, match=r"method must be one of \['tpe', 'cmaes', 'optuna_random'\]"):
        make_optuna_scheduler("bohb", space, 1, 27)
    with pytest.raises(TypeError, match="space must be a ConfigSpace"):
        OptunaSearcher({"x": (0, 1)}, 0)


def test_describe_names_sampler_options_and_version():
    d = OptunaSearcher(BraninMF().space, 2, n_startup_trials=4).describe()
    assert d == {"name": "optuna-tpe", "seed": 2, "sampler": "TPESampler", "sampler_options": {"n_startup_trials": 4},
                 "optuna": optuna.__version__}
