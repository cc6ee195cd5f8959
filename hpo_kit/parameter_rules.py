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


def existing_path(values: Mapping[str, Any], name: str, *, used: bool = True, unused_because: str = "",
                  empty_means: str = "the default location") -> list[str]:
    """A file or folder parameter: given only where it is used, and then it must exist.

    A path that does not exist would fail minutes into the run (or fall back to another file); one
    given where nothing reads it is a mistake the run would silently ignore. Relative paths are
    accepted when they exist from the current folder or from the notebooks' folder (papermill runs
    notebooks there, the runner checks from the repository root).
    """
    given = values.get(name)
    if not given:
        return []
    if not used:
        return [f"{name} = {given!r} is not used {unused_because}; leave {name} empty"]
    from pathlib import Path

    from hpo_kit import paths

    path = Path(str(given)).expanduser()
    candidates = [path] if path.is_absolute() else [path, paths.NOTEBOOKS_DIR / path]
    if not any(p.exists() for p in candidates):
        return [f"{name} = {given!r} does not exist (looked in {', '.join(str(p.resolve()) for p in candidates)}); "
                f"give an existing file or folder, or leave {name} empty for {empty_means}"]
    return []


def rows_within(values: Mapping[str, Any], name: str, n_rows: int | None, table: str, *,
                zero_keeps_all: bool = True) -> list[str]:
    """A row limit no larger than the table it cuts (``0`` keeps every row when ``zero_keeps_all``).

    A limit above the table's size would be ignored (the whole table is used), so the run would
    not be the one asked for; ``n_rows`` None (size unknown before loading) skips the check.
    """
    limit = values.get(name)
    if n_rows is None or limit is None or (zero_keeps_all and limit == 0) or int(limit) <= int(n_rows):
        return []
    keep_all = ", or 0 for all of them" if zero_keeps_all else ""
    return [f"{name} = {int(limit):,} is larger than {table}, which has {int(n_rows):,} rows; allowed: "
            f"1..{int(n_rows):,}{keep_all}"]


def budget_levels(values: Mapping[str, Any], low: str, high: str, eta: str, *, at_least: int = 2,
                  why: str = "the claims compare budgets") -> list[str]:
    """Successive halving from ``values[low]`` to ``values[high]`` by ``values[eta]`` has at least
    ``at_least`` budgets (``floor(log_eta(high / low)) + 1`` of them)."""
    if low not in values or high not in values or eta not in values:
        return []
    a, b, e = values[low], values[high], values[eta]
    if not (a > 0 and b >= a and e >= 2):
        return []             # other rules (ordered, ranges) report these
    n, level = 1, a
    while level * e <= b * (1 + 1e-9):
        level *= e
        n += 1
    if n >= at_least:
        return []
    return [f"{low} = {a!r}, {high} = {b!r} and {eta} = {e!r} give {n} budget{'s' if n != 1 else ''} "
            f"({', '.join(str(a * e ** k) for k in range(n))}), but {why}: at least {at_least} are needed; "
            f"raise {high} to >= {a * e ** (at_least - 1)!r}, or lower {low} or {eta}"]
