"""The run session every notebook opens first and closes last.

``RunSession.start`` validates the notebook's parameters, seeds every random source, limits torch
to one thread, makes the run folder and records the environment. During the notebook it saves
figures and collects claims and metrics; ``finish`` shows the claims table and writes
``results.json``, which the runner's REPORT.md is built from.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hpo_kit import paths
from hpo_kit.claims import ClaimRow, claims_markdown, verdict_counts
from hpo_kit.environment_info import environment_record
from hpo_kit.params import check_combination, read_parameter_specs, validate_values
from hpo_kit.progress import progress as _progress
from hpo_kit.runlog import to_jsonable
from hpo_kit.seeding import seed_everything


def _show_markdown(text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:
        pass
    print(text)


#: matplotlib's tab10 without its grey: the notebooks draw reference lines (random search, a published
#: curve) in grey, so no method may get grey as its own colour (notebook 05 has eight methods)
KIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def use_kit_colours() -> None:
    """Make "C0", "C1", ... (matplotlib's colour cycle) the kit's colours for this kernel."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(KIT_COLOURS))


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (worker pools once shut down)."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def notebook_code_digest(notebook: str) -> str:
    """:func:`hpo_kit.null_checks.code_digest` of the paper package behind ``notebook`` ("" if none)."""
    from hpo_kit.null_checks import PACKAGES, code_digest

    index = notebook[:2]
    package = dict(zip(("00", "01", "02", "03", "04", "05"), PACKAGES)).get(index, "")
    return code_digest(package) if package else ""


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)


#: the first line of the cell papermill inserts after the ``parameters`` cell (``-p name value``)
_INJECTED_HEADER = "# Parameters"


def injected_parameters(namespace: dict[str, Any]) -> dict[str, Any]:
    """Names and values papermill injected into this kernel (``-p name value``), from its input history.

    papermill only warns about a name the notebook does not declare and runs the notebook with
    its default, so a misspelt ``-p`` would go unnoticed; the injected cell (it starts with
    ``# Parameters``) is in the kernel's input history, which the notebook's ``globals()`` holds.
    """
    import ast

    history = namespace.get("In") or namespace.get("_ih") or []
    found: dict[str, Any] = {}
    for source in history if isinstance(history, list) else []:
        if not isinstance(source, str) or not source.lstrip().startswith(_INJECTED_HEADER):
            continue
        try:
            body = ast.parse(source).body
        except SyntaxError:
            continue
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = namespace.get(target.id, ast.unparse(node.value) if node.value else None)
    return found


def _refuse_unknown_injected(namespace: dict[str, Any], specs: dict, notebook: str) -> None:
    import difflib

    from hpo_kit.params import ParameterError

    unknown = {k: v for k, v in injected_parameters(namespace).items() if k not in specs}
    if not unknown:
        return
    parts = []
    for name, value in unknown.items():
        close = difflib.get_close_matches(name, list(specs), n=1)
        parts.append(f"{name!r} = {value!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ParameterError(
        f"{notebook}: papermill was given parameter(s) this notebook does not declare: {'; '.join(parts)}. "
        f"The notebook would run with its defaults instead. Allowed: {', '.join(specs)}")


class RunSession:
    """State of one notebook run. Create it with :meth:`start`."""

    def __init__(self, notebook: str, params: dict[str, Any], run_dir: Path):
        self.notebook = notebook
        self.params = params
        self.dir = run_dir
        self.figures_dir = run_dir / "figures"
        self.metrics: dict[str, Any] = {}
        self.claims: list[ClaimRow] = []
        self.figures: list[str] = []
        self.figure_captions: dict[str, str] = {}
        self.data_source: str | None = None
        self.started = time.perf_counter()
        self.started_cpu = cpu_seconds()
        self.environment = environment_record()

    @classmethod
    def start(cls, notebook: str, namespace: dict[str, Any]) -> RunSession:
        """Validate the notebook's parameters found in ``namespace`` (its ``globals()``) and set up.

        Coerced values (an int given for a float) are written back into ``namespace``.
        """
        specs = read_parameter_specs(notebook)
        _refuse_unknown_injected(namespace, specs, notebook)
        missing = [k for k in specs if k not in namespace]
        if missing:
            raise NameError(f"parameters {missing} are declared in {notebook}'s parameters cell but "
                            "not defined: run the parameters cell first")
        params = validate_values(specs, {k: namespace[k] for k in specs}, origin=f"{notebook} parameters")
        check_combination(notebook, params, origin=f"{notebook} parameters")
        namespace.update(params)
        profile = params.get("profile", "workshop")
        seed = int(params.get("seed", 0))

        seed_everything(seed)
        from hpo_kit.train.threads import limit_torch_threads

        # One torch thread per process: on a 2-core machine, oversubscribed threads are the first
        # performance trap (see hpo_kit/train/threads.py).
        limit_torch_threads(1)
        use_kit_colours()

        run_dir = paths.run_dir(profile, notebook)
        (run_dir / "figures").mkdir(parents=True, exist_ok=True)
        session = cls(notebook, params, run_dir)
        _show_markdown(f"**{notebook}** · profile `{profile}` · seed {seed} · run folder `{run_dir}`")
        return session

    # ------------------------------------------------------------------ during the notebook
    @property
    def profile(self) -> str:
        return self.params.get("profile", "workshop")

    @property
    def seed(self) -> int:
        return int(self.params.get("seed", 0))

    def progress(self, iterable=None, *, desc: str = "", total=None, label=None, **kwargs):
        """A progress bar over ``iterable`` (:func:`hpo_kit.progress.progress`); ``label(item)`` names the
        item being run on the bar (method, seed, task)."""
        return _progress(iterable, desc=desc, total=total, label=label, **kwargs)

    def use_data(self, data: Any) -> None:
        """Record which data the run used (a Splits object, or a description) and say it."""
        source = getattr(data, "source", data)
        self.data_source = str(source)
        sizes = data.sizes() if hasattr(data, "sizes") else None
        _show_markdown(f"**Data:** {self.data_source}" + (f" — sizes {sizes}" if sizes else ""))

    def savefig(self, fig, name: str, dpi: int = 120, caption: str = "") -> Path:
        """Save ``fig`` as ``figures/<name>.png`` and ``.pdf`` in the run folder; returns the PNG path.

        ``caption``: what the figure shows and how to read it, one or two sentences; the report prints it
        under the figure (results.json ``figure_captions``), else the figure's name.
        """
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {type(caption).__name__}")
        png = self.figures_dir / f"{name}.png"
        fig.savefig(png, dpi=dpi, bbox_inches="tight")
        fig.savefig(self.figures_dir / f"{name}.pdf", bbox_inches="tight")
        if png.name not in self.figures:
            self.figures.append(png.name)
        if caption.strip():
            self.figure_captions[png.name] = caption.strip()
        return png

    def add_claims(self, rows: ClaimRow | list[ClaimRow]) -> list[ClaimRow]:
        """Add decided claims (from the paper package's ``claims.py``) to the claims table."""
        rows = [rows] if isinstance(rows, ClaimRow) else list(rows)
        for row in rows:
            if not isinstance(row, ClaimRow):
                raise TypeError("claims must be ClaimRow objects from hpo_kit.claims.decide (a paper package's "
                                f"claims.py returns them), got {type(row).__name__}")
        self.claims.extend(rows)
        return rows

    # ------------------------------------------------------------------ the end
    def results(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "profile": self.profile,
            "seed": self.seed,
            "duration_s": round(time.perf_counter() - self.started, 2),
            "cpu_s": round(cpu_seconds() - self.started_cpu, 2),
            # the digest the calibration record uses: results written by other claim or experiment code
            # are flagged as stale (hpo_kit.record)
            "code_digest": notebook_code_digest(self.notebook),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data_source": self.data_source,
            "claims": [c.as_dict() for c in self.claims],
            "verdict_counts": verdict_counts(self.claims),
            "metrics": self.metrics,
            "figures": [f"figures/{f}" for f in self.figures],
            "figure_captions": dict(self.figure_captions),
            "params": self.params,
            "environment": self.environment,
        }

    def finish(self) -> Path:
        """Show the claims table and write ``results.json``; returns its path."""
        note = ("\n\n_Smoke profile: these verdicts only show that every cell runs; they mean nothing._"
                if self.profile == "smoke" else "")
        _show_markdown("### Claims\n\n" + claims_markdown(self.claims) + note)
        path = self.dir / "results.json"
        write_json_atomic(path, self.results())
        return path
