"""HPO methods by name: a scheduler (budgets) paired with a searcher (configurations).

=================  ===================================  =========================================
method             scheduler                            searcher
=================  ===================================  =========================================
random             FIFO (every trial to max_resource)   random search
gp                 FIFO                                 GP-EI (single fidelity)
hyperband          synchronous Hyperband                random search
bohb               synchronous Hyperband                KDE (Falkner et al. 2018)
asha-stopping      asynchronous Hyperband, stopping     random search
asha-promotion     asynchronous Hyperband, promotion    random search (ASHA, Li et al. 2020)
abohb-stopping     asynchronous Hyperband, stopping     joint (config, resource) GP (Klein et al. 2020)
abohb-promotion    asynchronous Hyperband, promotion    joint (config, resource) GP
=================  ===================================  =========================================

One ``seed`` seeds the searcher and (through a separate stream) the bracket sampling.
"""
from __future__ import annotations

import numbers
from dataclasses import fields
from typing import Any

from ConfigSpace import ConfigurationSpace

from hpo_kit.backends.base import Backend
from hpo_kit.schedulers.base import Scheduler
from hpo_kit.schedulers.hyperband import check_resources

METHODS: dict[str, str] = {
    "random": "FIFO + random search",
    "gp": "FIFO + GP-EI",
    "hyperband": "synchronous Hyperband + random search",
    "bohb": "synchronous Hyperband + KDE (BOHB)",
    "asha-stopping": "asynchronous Hyperband (stopping) + random search",
    "asha-promotion": "asynchronous Hyperband (promotion, ASHA) + random search",
    "abohb-stopping": "asynchronous Hyperband (stopping) + multi-fidelity GP (A-BOHB)",
    "abohb-promotion": "asynchronous Hyperband (promotion) + multi-fidelity GP (A-BOHB)",
}
BACKENDS = ("sequential", "local", "dask", "simulator")

# scheduler options each family accepts (besides searcher_config)
_FIFO_OPTIONS = ("max_trials",)
_SYNC_OPTIONS = ("brackets", "n_iterations", "overlap_brackets", "bracket_rule")
_ASYNC_OPTIONS = ("brackets", "max_trials", "promotion_rule")
#: options every method takes, handed to its searcher rather than its scheduler
_SEARCHER_OPTIONS = ("searcher_config", "on_exhausted")


def _plain_int(value: Any) -> Any:
    """``np.int64(3)`` -> ``3``; anything else (bools, floats, text) unchanged, for the checks to refuse."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_":
        return int(value)
    return value


def _check_space(space: Any) -> None:
    from hpo_kit.spaces import validate_space

    validate_space(space)


def _check_options(method: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed) - set(_SEARCHER_OPTIONS))
    if unknown:
        raise TypeError(f"method {method!r} does not take option(s) {unknown}; allowed: "
                        f"{sorted(allowed + _SEARCHER_OPTIONS)}")


def _searcher_config(config_class: type, value: Any) -> Any:
    """``searcher_config`` may be the searcher's config dataclass or a dict of its fields."""
    if value is None or isinstance(value, config_class):
        return value
    if isinstance(value, dict):
        names = {f.name for f in fields(config_class)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise TypeError(f"searcher_config has unknown field(s) {unknown}; {config_class.__name__} has {sorted(names)}")
        return config_class(**value)
    raise TypeError(f"searcher_config must be a {config_class.__name__}, a dict or None, got {type(value).__name__}")


def make_searcher(kind: str, space: ConfigurationSpace, seed: int, max_resource: int, config: Any = None,
                  candidates: list[dict[str, Any]] | None = None, on_exhausted: str = "repeat"):
    """``kind`` in {random, kde, gp, gp-multi-fidelity}; ``candidates`` (optional) restricts the
    searcher to those configurations, each suggested once (see :mod:`hpo_kit.searchers.candidates`);
    ``on_exhausted`` ("repeat" or "stop") says what happens once all of them have been suggested."""
    from hpo_kit.searchers.candidates import check_on_exhausted

    check_on_exhausted(on_exhausted)
    if kind == "random":
        from hpo_kit.searchers.random_search import RandomSearcher

        if config is not None:
            raise TypeError("random search takes no searcher_config")
        return RandomSearcher(space, seed, candidates=candidates, on_exhausted=on_exhausted)
    if kind == "kde":
        from hpo_kit.searchers.kde import KDEConfig, KDESearcher

        return KDESearcher(space, seed, config=_searcher_config(KDEConfig, config), candidates=candidates,
                           on_exhausted=on_exhausted)
    if kind in ("gp", "gp-multi-fidelity"):
        from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher, GPSearcherConfig, gp_ei_config

        cls = GPSearcher if kind == "gp" else GPMultiFidelitySearcher
        if kind == "gp" and isinstance(config, dict):
            # a dict names the fields that differ from GP-EI's own defaults (gp_ei_config), not from the
            # bare GPSearcherConfig that A-BOHB's GP starts from
            _searcher_config(GPSearcherConfig, config)  # unknown fields: the same TypeError as below
            config = gp_ei_config(**config)
        return cls(space, seed, config=_searcher_config(GPSearcherConfig, config), max_resource=max_resource,
                   candidates=candidates, on_exhausted=on_exhausted)
    raise ValueError(f"searcher kind must be one of ['random', 'kde', 'gp', 'gp-multi-fidelity'], got {kind!r}")


def make_scheduler(method: str, space: ConfigurationSpace, min_resource: int, max_resource: int, eta: int = 3,
                   seed: int = 0, candidates: list[dict[str, Any]] | None = None, **options: Any) -> Scheduler:
    """The scheduler (with its searcher) of ``method``; see the module table.

    Options: ``max_trials`` (random, gp, asha-*, abohb-*), ``brackets`` (Hyperband family; the
    asynchronous methods default to 1 = ASHA's single bracket, synchronous ones to all),
    ``n_iterations``, ``overlap_brackets`` (default True) and ``bracket_rule`` ("li" or
    "hpbandster") for hyperband and bohb, ``promotion_rule`` ("asha_floor" or "interpolated") for
    asha-* and abohb-*, ``searcher_config`` (a ``KDEConfig`` / ``GPSearcherConfig`` or a dict of its
    fields), ``on_exhausted`` ("repeat" or "stop", with ``candidates``: what happens once every
    candidate has been suggested; see :mod:`hpo_kit.searchers.candidates`).

    ``candidates``: None (default) lets the searcher propose any configuration of ``space``; a
    list of configuration dicts (e.g. ``TabularObjective.candidates()``) makes every method's
    searcher choose only among them, without repeats until all have been suggested.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    _check_space(space)
    # numpy integers (a resource or seed taken from an array) are integers: plain ints from here on
    min_resource, max_resource, eta, seed = (_plain_int(v) for v in (min_resource, max_resource, eta, seed))
    check_resources(min_resource, max_resource, eta)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    searcher_config = options.get("searcher_config")
    on_exhausted = options.get("on_exhausted", "repeat")
    scheduler_options = {k: v for k, v in options.items() if k not in _SEARCHER_OPTIONS}

    if method in ("random", "gp"):
        from hpo_kit.schedulers.fifo import FIFOScheduler

        _check_options(method, options, _FIFO_OPTIONS)
        searcher = make_searcher(method, space, seed, max_resource, searcher_config, candidates, on_exhausted)
        return FIFOScheduler(searcher, min_resource, max_resource, **scheduler_options)
    if method in ("hyperband", "bohb"):
        from hpo_kit.schedulers.hyperband import SynchronousHyperband

        _check_options(method, options, _SYNC_OPTIONS)
        searcher = make_searcher("random" if method == "hyperband" else "kde", space, seed, max_resource,
                                 searcher_config, candidates, on_exhausted)
        return SynchronousHyperband(searcher, min_resource, max_resource, eta=eta, **scheduler_options)

    from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband

    _check_options(method, options, _ASYNC_OPTIONS)
    family, variant = method.split("-")
    searcher = make_searcher("random" if family == "asha" else "gp-multi-fidelity", space, seed, max_resource,
                             searcher_config, candidates, on_exhausted)
    return AsynchronousHyperband(searcher, min_resource, max_resource, eta=eta, variant=variant, seed=seed,
                                 **scheduler_options)


def make_backend(name: str, n_workers: int | None = None, address: str | None = None, **options: Any) -> Backend:
    """A backend by name: sequential (1 worker, this process), local (worker processes), dask
    (a local cluster, or the scheduler at ``address``), simulator (virtual clock).

    ``n_workers`` is required for local and simulator, optional for dask with an ``address`` (all
    the cluster's worker threads), 1 or None for sequential. Options: ``timeout`` (all; seconds,
    virtual for the simulator), ``start_method`` (local), ``processes`` (dask: worker processes by
    default, False for threads of this process), ``lost_after`` (dask: seconds without workers before
    the run stops with an error), ``charge_decision_time`` (simulator).
    """
    allowed = {"sequential": ("timeout",), "local": ("timeout", "start_method"),
               "dask": ("timeout", "processes", "lost_after"), "simulator": ("timeout", "charge_decision_time")}
    if name not in allowed:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {name!r}")
    unknown = sorted(set(options) - set(allowed[name]))
    if unknown:
        raise TypeError(f"backend {name!r} does not take option(s) {unknown}; allowed: {list(allowed[name])}")
    if address is not None and name != "dask":
        raise ValueError(f"address is only used by the dask backend, got address={address!r} with backend {name!r}")
    if name == "sequential":
        from hpo_kit.backends.sequential import SequentialBackend

        if n_workers not in (None, 1):
            raise ValueError(f"n_workers must be 1 (or None) for the sequential backend, got {n_workers!r}")
        return SequentialBackend(**options)
    if n_workers is None and not (name == "dask" and address is not None):
        raise ValueError(f"n_workers is required for the {name} backend (an integer >= 1)")
    if name == "local":
        from hpo_kit.backends.local import LocalProcessBackend

        return LocalProcessBackend(n_workers, **options)
    if name == "dask":
        from hpo_kit.backends.dask_backend import DaskBackend

        return DaskBackend(n_workers=n_workers, address=address, **options)
    from hpo_kit.backends.simulator import SimulatorBackend

    return SimulatorBackend(n_workers, **options)
