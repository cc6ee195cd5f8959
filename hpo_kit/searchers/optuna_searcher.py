"""Optuna's samplers (TPE, CMA-ES, random) as a kit searcher, through Optuna's ask-and-tell API.

Interface (a :class:`~hpo_kit.searchers.base.Searcher`, so any kit scheduler can drive it)::

    OptunaSearcher(space: ConfigurationSpace, seed: int, sampler: str = "tpe", **sampler_options)
    .suggest() -> dict[str, Any]                      # asks Optuna for a trial, returns a kit config
    .on_pending(trial_id, config, resource) -> None   # binds the kit trial id to the Optuna trial
    .on_result(trial_id, config, resource, loss)      # tells the loss (see "multi-fidelity" below)
    .on_failure(trial_id, config, resource)           # tells TrialState.FAIL
    .describe() -> dict                               # what the run-log header records

    make_optuna_scheduler(method: str, space, min_resource: int, max_resource: int, seed: int = 0,
                          max_trials: int | None = None, **sampler_options) -> FIFOScheduler
    OPTUNA_METHODS = {"tpe": ..., "cmaes": ..., "optuna_random": ...}   # method name -> description

``sampler`` is one of :data:`SAMPLERS` (``"tpe"`` -> ``optuna.samplers.TPESampler``, ``"cmaes"`` ->
``CmaEsSampler``, ``"random"`` -> ``RandomSampler``). ``sampler_options`` are passed to that
sampler's constructor (e.g. ``n_startup_trials=5``); unknown names raise ``ValueError`` listing the
sampler's parameters. ``seed`` is given to the sampler (``seed=...``), so the same seed and the same
history of results give the same suggestions, on every backend and on resume.

Mapping of ConfigSpace hyperparameters to Optuna distributions (define-by-run, one ``suggest_*``
call per *active* hyperparameter, parents first):

=======================  ===========================================================================
ConfigSpace              Optuna
=======================  ===========================================================================
Float (log or not)       ``FloatDistribution(lower, upper, log=...)``
Integer (log or not)     ``IntDistribution(lower, upper, log=...)``
Categorical              ``CategoricalDistribution(choices)`` (choice weights ignored, as in the kit)
Ordinal                  ``IntDistribution(0, k-1)`` on the position in the sequence, so models that
                         know numbers (CMA-ES) keep the order; decoded back to the sequence value
Constant                 not asked; added to every configuration in which it is active
Normal / Beta floats     uniform on their bounds (the kit's searchers ignore priors; spaces.py)
=======================  ===========================================================================

Conditions: a hyperparameter whose conditions do not hold for the values chosen so far is not
asked at all, so it is absent from the configuration *and* from the Optuna trial (its
distribution does not enter Optuna's model). For such dynamic spaces the TPE sampler is built
with ``multivariate=True, group=True`` unless the caller says otherwise (Optuna's multivariate TPE
needs ``group`` for dynamic spaces). Forbidden clauses: a sampled configuration that violates one
is told to Optuna as FAIL and a new one is asked, up to 100 times.

Multi-fidelity results (Hyperband-type schedulers report a trial at several resources): an Optuna
trial holds one value, and the kit keeps it equal to the loss **at the highest resource this trial
has reached so far**. The first result of a trial completes its Optuna trial; a later result at a
higher resource replaces that value (results at a lower or equal resource than one already told
are ignored). Optuna cannot change a finished trial, so a replacement rebuilds the study before
the next ``suggest()``: a new in-memory study with the same sampler object, holding copies of all
trials (params, distributions, Optuna's own trial attributes) with the updated values. Hence TPE
models each configuration by the best-informed loss it has. Caveat: this mixes losses of
different fidelities in one model (BOHB keeps one model per budget instead, see searchers/kde.py);
with the FIFO scheduler (every trial straight to max_resource, :func:`make_optuna_scheduler`)
there is exactly one result per trial and no rebuild ever happens.

CMA-ES has no categorical (nor conditional) dimensions: Optuna's CmaEsSampler samples the
*intersection search space of numerical parameters* with CMA-ES and every other parameter
(categoricals, conditionally active ones) with its ``independent_sampler`` -- by default a
``RandomSampler`` seeded with the same seed, i.e. uniform random for those parameters. The kit
turns off Optuna's warning about it (``warn_independent_sampling=False``) and states it here
instead. The first trial, and every trial when fewer than two numerical dimensions exist, is
sampled by the independent sampler too (CMA-ES needs >= 2 continuous dimensions).

Parallel workers: trials asked but not yet told are RUNNING in Optuna. TPE's ``constant_liar``
(True by default in Optuna 5) keeps it from proposing the same region to two free workers.

Logging: Optuna's own logger is set to WARNING when a searcher is created
(``optuna.logging.set_verbosity``), so it does not print one line per trial; nothing else is
touched (no global logging or warnings filters).
"""
from __future__ import annotations

import importlib.util
import inspect
import math
import warnings
from typing import Any

import numpy as np
from ConfigSpace import CategoricalHyperparameter, Configuration, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.conditions import AndConjunction, Condition, OrConjunction
from ConfigSpace.exceptions import ForbiddenValueError
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

from hpo_kit.searchers.base import Searcher
from hpo_kit.spaces import validate_space

#: sampler name -> Optuna sampler class name (in ``optuna.samplers``)
SAMPLERS: dict[str, str] = {"tpe": "TPESampler", "cmaes": "CmaEsSampler", "random": "RandomSampler"}
#: method names of :func:`make_optuna_scheduler` -> description (FIFO scheduler + the sampler)
OPTUNA_METHODS: dict[str, str] = {
    "tpe": "FIFO + Optuna TPE (ask-and-tell)",
    "cmaes": "FIFO + Optuna CMA-ES (categoricals: Optuna's independent random sampler)",
    "optuna_random": "FIFO + Optuna random sampler",
}
_METHOD_SAMPLER = {"tpe": "tpe", "cmaes": "cmaes", "optuna_random": "random"}
_MAX_FORBIDDEN_TRIES = 100


def _optuna():
    import optuna

    return optuna


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _holds(cond: Any, values: dict[str, Any]) -> bool:
    """Whether ``cond`` holds for the partial configuration ``values`` (absent parent = inactive)."""
    if isinstance(cond, AndConjunction):
        return all(_holds(c, values) for c in cond.components)
    if isinstance(cond, OrConjunction):
        return any(_holds(c, values) for c in cond.components)
    assert isinstance(cond, Condition), f"unknown condition type {type(cond).__name__}"
    if cond.parent.name not in values:
        return False
    return bool(cond.satisfied_by_value(values))


class OptunaSearcher(Searcher):
    """A kit searcher backed by an Optuna sampler (see the module docstring for every rule)."""

    def __init__(self, space: ConfigurationSpace, seed: int, sampler: str = "tpe", **sampler_options: Any):
        validate_space(space)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {list(SAMPLERS)}, got {sampler!r}")
        super().__init__(space, int(seed))
        self.sampler_name = sampler
        optuna = _optuna()
        # Silence Optuna at its source: its own logger only (one INFO line per trial otherwise).
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna_version = optuna.__version__
        if sampler == "cmaes":
            # Optuna's CmaEsSampler imports it lazily, at the 2nd trial: fail here, before any work
            if importlib.util.find_spec("cmaes") is None:
                raise ImportError("sampler 'cmaes' needs the 'cmaes' package (Optuna's CMA-ES backend): "
                                  "pip install cmaes==0.13.1")
        cls = getattr(optuna.samplers, SAMPLERS[sampler])
        allowed = sorted(p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "seed"))
        unknown = sorted(set(sampler_options) - set(allowed))
        if unknown:
            raise ValueError(f"sampler {sampler!r} ({SAMPLERS[sampler]}) does not take option(s) {unknown}; "
                             f"allowed: {allowed}")
        self._hps = list(space.values())  # ConfigSpace order: parents before children
        self._dynamic = len(space.conditional_hyperparameters) > 0
        options = dict(sampler_options)
        if sampler == "tpe" and self._dynamic:
            options.setdefault("multivariate", True)
            options.setdefault("group", True)
        if sampler == "cmaes":
            options.setdefault("warn_independent_sampling", False)
        self.sampler_options = options
        with warnings.catch_warnings():
            # only around constructing the sampler: group/multivariate are "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._sampler = cls(seed=self.seed, **options)
        self._study = optuna.create_study(direction="minimize", sampler=self._sampler)
        self._distributions = {hp.name: self._distribution(hp) for hp in self._hps if not isinstance(hp, Constant)}
        # kit bookkeeping
        self._unbound: list[tuple[dict[str, Any], int]] = []  # (config, optuna number) asked, no trial id yet
        self._number_of: dict[int, int] = {}  # kit trial id -> Optuna trial number (in the current study)
        self._told_resource: dict[int, int] = {}  # kit trial id -> resource of the value told
        self._value_update: dict[int, float] = {}  # Optuna number -> value replacing the told one
        self.n_rebuilds = 0  # how often a multi-fidelity update rebuilt the study (see module doc)

    # -------------------------------------------------------------------------- distributions
    def _distribution(self, hp: Any):
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if isinstance(hp, CategoricalHyperparameter):
            return CategoricalDistribution([_native(c) for c in hp.choices])
        if isinstance(hp, OrdinalHyperparameter):
            return IntDistribution(0, len(hp.sequence) - 1)
        if isinstance(hp, IntegerHyperparameter):
            return IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        if isinstance(hp, FloatHyperparameter):
            return FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        raise TypeError(f"hyperparameter {hp.name!r} has unsupported type {type(hp).__name__}")  # pragma: no cover

    def _ask_config(self) -> tuple[Any, dict[str, Any]]:
        trial = self._study.ask()
        config: dict[str, Any] = {}
        for hp in self._hps:
            conditions = self.space.parent_conditions_of[hp.name]
            if conditions and not all(_holds(c, config) for c in conditions):
                continue  # inactive: not asked, absent from the configuration
            if isinstance(hp, Constant):
                config[hp.name] = _native(hp.value)
                continue
            dist = self._distributions[hp.name]
            if isinstance(hp, CategoricalHyperparameter):
                value = trial.suggest_categorical(hp.name, dist.choices)
            elif isinstance(hp, OrdinalHyperparameter):
                value = hp.sequence[trial.suggest_int(hp.name, 0, len(hp.sequence) - 1)]
            elif isinstance(hp, IntegerHyperparameter):
                value = trial.suggest_int(hp.name, dist.low, dist.high, log=dist.log)
            else:
                value = trial.suggest_float(hp.name, dist.low, dist.high, log=dist.log)
            config[hp.name] = _native(value)
        return trial, config

    # ------------------------------------------------------------------------------ searcher API
    def suggest(self) -> dict[str, Any]:
        optuna = _optuna()
        if self._value_update:
            self._rebuild()
        for _ in range(_MAX_FORBIDDEN_TRIES):
            trial, config = self._ask_config()
            if self._allowed(config):
                self._unbound.append((config, trial.number))
                return dict(config)
            self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise RuntimeError(f"Optuna's {self.sampler_name} sampler proposed {_MAX_FORBIDDEN_TRIES} configurations "
                           "in a row that violate the space's forbidden clauses")

    def _allowed(self, config: dict[str, Any]) -> bool:
        if not self.space.forbidden_clauses:
            return True
        try:
            Configuration(self.space, values=config)  # checks forbidden clauses on construction
        except (ForbiddenValueError, ValueError):
            return False
        return True

    def _number(self, trial_id: int, config: dict[str, Any]) -> int | None:
        """The Optuna trial of kit trial ``trial_id``, binding it on first sight (by config)."""
        if trial_id in self._number_of:
            return self._number_of[trial_id]
        for i, (asked, number) in enumerate(self._unbound):
            if asked == config:
                del self._unbound[i]
                self._number_of[trial_id] = number
                return number
        return None  # a configuration this searcher did not suggest (e.g. injected): ignored

    def on_pending(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        self._number(trial_id, dict(config))

    def on_result(self, trial_id: int, config: dict[str, Any], resource: int, loss: float) -> None:
        number = self._number(trial_id, dict(config))
        if number is None:
            return
        loss = float(loss)
        if not math.isfinite(loss):
            self.on_failure(trial_id, config, resource)
            return
        optuna = _optuna()
        previous = self._told_resource.get(trial_id)
        if previous is None:
            state = self._study.get_trials(deepcopy=False)[number].state
            if state == optuna.trial.TrialState.RUNNING:
                self._study.tell(number, loss)
            else:  # told FAIL earlier at a lower resource, now a result: replace it
                self._value_update[number] = loss
            self._told_resource[trial_id] = int(resource)
        elif resource > previous:
            self._value_update[number] = loss  # applied by _rebuild before the next suggest
            self._told_resource[trial_id] = int(resource)

    def on_failure(self, trial_id: int, config: dict[str, Any], resource: int) -> None:
        number = self._number(trial_id, dict(config))
        if number is None or trial_id in self._told_resource:
            return  # a failure after a result (at a higher resource) keeps the result that was told
        optuna = _optuna()
        self._study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)

    # ----------------------------------------------------------------------- multi-fidelity
    def _rebuild(self) -> None:
        """A new study with the same sampler and copies of the same trials, values updated.

        Trials are added in their order, so every Optuna trial keeps its number (RUNNING trials are
        copied as RUNNING and can still be told later); Optuna's own trial attributes (CMA-ES keeps
        its state there) are copied too.
        """
        optuna = _optuna()
        study = optuna.create_study(direction="minimize", sampler=self._sampler)
        for frozen in self._study.get_trials(deepcopy=True):
            if frozen.number in self._value_update:
                frozen.state = optuna.trial.TrialState.COMPLETE
                frozen.values = [self._value_update[frozen.number]]
            study.add_trial(frozen)
        self._study = study
        self._value_update.clear()
        self.n_rebuilds += 1

    def describe(self) -> dict[str, Any]:
        return {"name": f"optuna-{self.sampler_name}", "seed": self.seed, "sampler": SAMPLERS[self.sampler_name],
                "sampler_options": {k: v for k, v in sorted(self.sampler_options.items())},
                "optuna": self.optuna_version}


def make_optuna_scheduler(method: str, space: ConfigurationSpace, min_resource: int, max_resource: int,
                          seed: int = 0, max_trials: int | None = None, **sampler_options: Any):
    """FIFO scheduler (every trial straight to ``max_resource``) with an :class:`OptunaSearcher`.

    ``method`` is a key of :data:`OPTUNA_METHODS`. The kit's ``hpo_kit.methods.METHODS`` table is
    not extended (its tests pin the exact method list); use this function or build
    ``FIFOScheduler(OptunaSearcher(...), ...)`` directly.
    """
    from hpo_kit.schedulers.fifo import FIFOScheduler

    if method not in OPTUNA_METHODS:
        raise ValueError(f"method must be one of {list(OPTUNA_METHODS)}, got {method!r}")
    searcher = OptunaSearcher(space, seed, sampler=_METHOD_SAMPLER[method], **sampler_options)
    return FIFOScheduler(searcher, min_resource, max_resource, max_trials=max_trials)
