"""Rules between parameters: values that are each allowed but contradict each other.

A notebook's parameters cell checks every value on its own (type, range, choices). Some mistakes only
show in combination -- more training images than MNIST has, a smallest budget above the largest, the
sequential backend asked for eight workers -- and without a rule they fail minutes into a run, or
worse, run with something other than what was asked. Each paper package declares its notebook's rules
once, in ``hpo_kit/<paper>/parameters.py``, as ``check(values) -> list[str]``: one message per
contradiction, naming the parameters, their values and what is allowed. The runner
(``python -m hpo_kit.run --validate-only`` and every run) and ``RunSession.start`` call it, so a notebook
stops before any long work.

The helpers below are the rules several notebooks share. Each returns a list of messages (empty when
the values agree), so a package's ``check`` is a concatenation of them.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Which paper package holds each notebook's rules (and its method, experiment and claims).
NOTEBOOK_PACKAGES = {
    "00_quickstart": "hpo_kit.quickstart",
    "01_trl_hpo_mnist": "hpo_kit.trl_hpo",
    "02_mbrl_hpo_ablations": "hpo_kit.mbrl_hpo",
    "03_bohb_joint_nas_hpo": "hpo_kit.nas",
    "04_abohb_stopping_vs_promotion": "hpo_kit.abohb",
    "05_generative_hpo_hpob": "hpo_kit.gen_vae",
}

# The official MNIST files: validation images are drawn from the training set.
MNIST_TRAIN_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000
CIFAR10_TRAIN_IMAGES = 50_000
CIFAR10_TEST_IMAGES = 10_000

# What dask.distributed accepts as a scheduler address: a protocol and host[:port], or host:port.
_DASK_ADDRESS = re.compile(r"^((tcp|tls|inproc|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?$")


def check_notebook(notebook: str, values: Mapping[str, Any]) -> list[str]:
    """The contradictions among ``values`` under ``notebook``'s rules ([] when they agree).

    A notebook without a paper package here has no rules (the runner's own tests use such notebooks);
    tests/test_parameter_rules.py makes sure every shipped notebook has one.
    """
    package = NOTEBOOK_PACKAGES.get(notebook)
    if package is None:
        return []
    module = importlib.import_module(f"{package}.parameters")
    return list(module.check(dict(values)))


# ------------------------------------------------------------------------------- shared rules
def images_fit(values: Mapping[str, Any], drawn_from_train: Sequence[str], test: str | None = None, *,
               dataset: str = "MNIST", n_train_images: int = MNIST_TRAIN_IMAGES,
               n_test_images: int = MNIST_TEST_IMAGES) -> list[str]:
    """Splits drawn together from the official training set fit in it; the test split fits the test set."""
    problems = []
    present = [k for k in drawn_from_train if k in values]
    total = sum(int(values[k]) for k in present)
    if present and total > n_train_images:
        shown = " + ".join(f"{k} ({int(values[k]):,})" for k in present)
        problems.append(f"{shown} = {total:,} images, but {dataset}'s training set has {n_train_images:,}; "
                        f"these splits are drawn from it without overlap, so their sum must be <= {n_train_images:,}")
    if test is not None and test in values and int(values[test]) > n_test_images:
        problems.append(f"{test} = {int(values[test]):,}, but {dataset}'s test set has {n_test_images:,} images; "
                        f"it must be <= {n_test_images:,}")
    return problems


def ordered(values: Mapping[str, Any], low: str, high: str, *, strict: bool = False) -> list[str]:
    """``values[low] <= values[high]`` (``<`` when strict)."""
    if low not in values or high not in values:
        return []
    a, b = values[low], values[high]
    if (a >= b) if strict else (a > b):
        relation = "<" if strict else "<="
        return [f"{low} = {a!r} and {high} = {b!r} contradict each other: {low} must be {relation} {high}"]
    return []


def not_empty(values: Mapping[str, Any], *names: str) -> list[str]:
    """List parameters that must name at least one thing."""
    return [f"{name} is empty; give at least one value" for name in names
            if name in values and len(values[name]) == 0]


def backend_and_workers(values: Mapping[str, Any], backend: str = "backend", workers: str = "n_workers",
                        address: str = "dask_address") -> list[str]:
    """The sequential backend runs one training at a time; a Dask address needs the Dask backend and a form
    dask.distributed accepts."""
    problems = []
    chosen = values.get(backend)
    count = values.get(workers)
    if chosen == "sequential" and count is not None:
        counts = count if isinstance(count, (list, tuple)) else [count]
        if any(int(c) > 1 for c in counts):
            problems.append(f"{backend} = 'sequential' runs one training at a time, but {workers} = {count!r}; "
                            f"use {workers} = 1, or {backend} = 'local' or 'dask' for parallel trainings")
    given = values.get(address, "")
    if given:
        if chosen is not None and chosen != "dask":
            problems.append(f"{address} = {given!r} is only used by {backend} = 'dask', but {backend} = {chosen!r}; "
                            f"set {backend} = 'dask' or leave {address} empty")
        if not _DASK_ADDRESS.match(str(given)):
            problems.append(f"{address} = {given!r} is not a Dask scheduler address; expected e.g. "
                            "'tcp://10.0.0.5:8786' or 'localhost:8786' (empty starts a local cluster)")
    return problems
