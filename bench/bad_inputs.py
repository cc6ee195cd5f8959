"""Does every bad input get a clear, named error before any work? Prints one line per input; not a test.

Two sweeps:
- **notebook parameters**: for every parameter of every notebook, the kit's own check
  (``RunSession.start``'s path: type and range, then the notebook's combination rules) is given a
  wrong type, a value below or above its range, a value outside its choices, and a misspelt name;
- **engine calls**: searchers, schedulers, backends, stop criteria, ``run_hpo`` and what an objective
  may return, each given a value a user could plausibly pass by mistake.

Each input is classed as
- ``named``: refused with an exception whose message names the parameter (or the value) and, for a
  run, before any evaluation was logged;
- ``unclear``: refused, but the message names neither;
- ``warned``: accepted with a warning;
- ``accepted``: accepted silently;
- ``late``: refused only after evaluations had run.
Every class but ``named`` is a finding. Run: ``python bench/bad_inputs.py`` (``--quiet`` prints
findings and totals only). Takes about a minute.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ConfigSpace import ConfigurationSpace, Float  # noqa: E402

from hpo_kit.methods import make_backend, make_scheduler, make_searcher  # noqa: E402
from hpo_kit.objectives.synthetic import BraninMF  # noqa: E402
from hpo_kit.params import check_combination, read_parameter_specs, validate_values  # noqa: E402
from hpo_kit.runlog import read_events  # noqa: E402
from hpo_kit.stopping import StopCriteria  # noqa: E402
from hpo_kit.trial import Evaluation  # noqa: E402
from hpo_kit.tuner import run_hpo  # noqa: E402

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def classify(call: Callable[[], Any], names: tuple[str, ...], run_dir: Path | None = None) -> tuple[str, str]:
    """(class, message) of ``call()``; ``names``: any of them in the message counts as named."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except Exception as error:  # noqa: BLE001 - classifying every refusal is the point
            message = f"{type(error).__name__}: {error}"
            if run_dir is not None and _evaluations_logged(run_dir):
                return "late", message
            named = any(n.lower() in str(error).lower() for n in names)
            return ("named" if named else "unclear"), message
    own = [w for w in caught if "hpo_kit" in str(w.filename) or issubclass(w.category, UserWarning)]
    if own:
        return "warned", f"{own[0].category.__name__}: {own[0].message}"
    return "accepted", ""


def _evaluations_logged(run_dir: Path) -> bool:
    log = run_dir / "trials.jsonl"
    if not log.exists():
        return False
    try:
        return any(e.get("event") in ("result", "failure") for e in read_events(log))
    except Exception:  # noqa: BLE001 - a damaged log is not an evaluation
        return False


# -- notebook parameters --------------------------------------------------------------------------
def parameter_cases() -> list[tuple[str, Callable[[], Any], tuple[str, ...]]]:
    cases = []
    for notebook in NOTEBOOKS:
        specs = read_parameter_specs(notebook)
        defaults = {k: s.default for k, s in specs.items()}

        def check(values, notebook=notebook, specs=specs):
            params = validate_values(specs, values, origin=f"{notebook} parameters")
            check_combination(notebook, params, origin=f"{notebook} parameters")

        for name, spec in specs.items():
            bad: list[tuple[str, Any]] = []
            if spec.type_name in ("int", "float"):
                bad.append(("wrong type", "three"))
                if spec.low is not None:
                    bad.append(("below range", spec.low - (1 if spec.type_name == "int" else abs(spec.low) + 1)))
                if spec.high is not None:
                    bad.append(("above range", spec.high * 2 + 1))
                bad.append(("NaN", math.nan) if spec.type_name == "float" else ("fraction", 1.5))
            elif spec.type_name == "bool":
                bad.append(("wrong type", "yes"))
            elif spec.type_name == "str":
                bad.append(("wrong type", 3))
                if spec.choices:
                    bad.append(("not a choice", "no_such_value"))
            elif spec.type_name == "list":
                bad.append(("wrong type", 3))
            for what, value in bad:
                cases.append((f"{notebook}: {name} {what} ({value!r})",
                              lambda v=value, n=name, d=defaults, c=check: c({**d, n: v}), (name,)))
        misspelt = list(specs)[1] + "x"  # seedx
        cases.append((f"{notebook}: misspelt name {misspelt!r}",
                      lambda d=defaults, c=check, m=misspelt: _session_start(notebook, {**d, m: 1}), (misspelt,)))
    return cases


def _session_start(notebook: str, namespace: dict[str, Any]) -> None:
    """RunSession.start with a name papermill injected (``-p``) that the notebook does not declare: the
    injected cell is in the kernel's input history, as in a papermill run."""
    from hpo_kit.session import RunSession

    injected = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in namespace.items()
                                          if k not in read_parameter_specs(notebook))
    RunSession.start(notebook, {**namespace, "In": ["", injected]})


# -- engine calls ---------------------------------------------------------------------------------
SPACE = ConfigurationSpace({"x": Float("x", (0.0, 1.0))})


class _Returns:
    """An objective that returns what it is told to, to see what the engine accepts as a result."""

    space = BraninMF(max_resource=3).space
    min_resource, max_resource = 1, 3

    def __init__(self, value: Any):
        self.value = value

    def evaluate(self, config, resource, seed, **_):
        return self.value

    def describe(self):
        return {"returns": repr(self.value)}


def engine_cases(tmp: Path) -> list[tuple[str, Callable[[], Any], tuple[str, ...], Path | None]]:
    branin = BraninMF(max_resource=3)

    def run(objective=branin, method="random", stop=StopCriteria(max_evaluations=3), backend=None, seed=0,
            folder="r", **options):
        run_dir = tmp / folder
        scheduler = make_scheduler(method, objective.space, 1, 3, seed=0, **options)
        return run_hpo(objective, scheduler, backend or make_backend("sequential"), run_dir, seed,
                       stop=stop, resume=False, progress=False)

    counter = iter(range(10_000))

    def case(label, call, names, uses_dir=False):
        folder = f"run{next(counter)}"
        return (label, (lambda: call(folder)) if uses_dir else call, names, (tmp / folder) if uses_dir else None)

    return [
        case("make_scheduler: unknown method", lambda: make_scheduler("tpe2", SPACE, 1, 9), ("method",)),
        case("make_scheduler: min_resource > max_resource", lambda: make_scheduler("asha-stopping", SPACE, 9, 3),
             ("min_resource", "max_resource")),
        case("make_scheduler: eta 1", lambda: make_scheduler("hyperband", SPACE, 1, 9, eta=1), ("eta",)),
        case("make_scheduler: negative seed", lambda: make_scheduler("random", SPACE, 1, 9, seed=-1), ("seed",)),
        case("make_scheduler: float resource", lambda: make_scheduler("random", SPACE, 1, 9.5), ("max_resource",)),
        case("make_scheduler: unknown option", lambda: make_scheduler("random", SPACE, 1, 9, brackets=2),
             ("brackets",)),
        case("make_scheduler: max_trials 0", lambda: make_scheduler("random", SPACE, 1, 9, max_trials=0),
             ("max_trials",)),
        case("make_scheduler: unknown promotion rule",
             lambda: make_scheduler("asha-promotion", SPACE, 1, 9, promotion_rule="ceil"), ("promotion_rule",)),
        case("make_scheduler: unknown bracket rule",
             lambda: make_scheduler("hyperband", SPACE, 1, 9, bracket_rule="floor"), ("bracket_rule", "rule")),
        case("make_scheduler: not a ConfigurationSpace", lambda: make_scheduler("random", {"x": (0, 1)}, 1, 9),
             ("space",)),
        case("make_scheduler: empty candidates", lambda: make_scheduler("random", SPACE, 1, 9, candidates=[]),
             ("candidates",)),
        case("make_scheduler: candidate outside the space",
             lambda: make_scheduler("random", SPACE, 1, 9, candidates=[{"x": 2.0}]), ("candidate", "x")),
        case("make_scheduler: searcher_config field misspelt",
             lambda: make_scheduler("bohb", SPACE, 1, 9, searcher_config={"min_point_in_model": 3}),
             ("min_point_in_model",)),
        case("make_searcher: unknown kind", lambda: make_searcher("tpe", SPACE, 0, 9), ("kind",)),
        case("make_searcher: on_exhausted misspelt", lambda: make_searcher("random", SPACE, 0, 9, on_exhausted="end"),
             ("on_exhausted",)),
        case("make_backend: unknown name", lambda: make_backend("ray", 2), ("backend",)),
        case("make_backend: 0 workers", lambda: make_backend("local", 0), ("n_workers",)),
        case("make_backend: sequential with 4 workers", lambda: make_backend("sequential", 4), ("n_workers",)),
        case("make_backend: negative timeout", lambda: make_backend("sequential", timeout=-1), ("timeout",)),
        case("make_backend: address without dask", lambda: make_backend("local", 2, address="tcp://x:1"),
             ("address",)),
        case("make_backend: unknown option", lambda: make_backend("simulator", 2, processes=True), ("processes",)),
        case("make_backend: simulator without n_workers", lambda: make_backend("simulator"), ("n_workers",)),
        case("StopCriteria: negative max_time", lambda: StopCriteria(max_time=-5), ("max_time",)),
        case("StopCriteria: fractional max_evaluations", lambda: StopCriteria(max_evaluations=2.5),
             ("max_evaluations",)),
        case("StopCriteria: NaN max_total_resource", lambda: StopCriteria(max_total_resource=math.nan),
             ("max_total_resource",)),
        case("run_hpo: negative seed", lambda f: run(seed=-3, folder=f), ("seed",), True),
        case("run_hpo: no stop criterion with an endless scheduler", lambda f: run(stop=StopCriteria(), folder=f),
             ("stop", "max_"), True),
        case("run_hpo: scheduler space differs from the objective's",
             lambda f: run_hpo(branin, make_scheduler("random", SPACE, 1, 3, max_trials=3), make_backend("sequential"),
                               tmp / f, 0, resume=False, progress=False), ("space",), True),
        case("run_hpo: scheduler max_resource above the objective's",
             lambda f: run_hpo(branin, make_scheduler("random", branin.space, 1, 9, max_trials=3),
                               make_backend("sequential"), tmp / f, 0, resume=False, progress=False),
             ("max_resource", "resource"), True),
        case("run_hpo: a file as the run folder",
             lambda f: (tmp / f).write_text("x") and run_hpo(branin, make_scheduler("random", branin.space, 1, 3,
                                                                                     max_trials=2),
                                                              make_backend("sequential"), tmp / f, 0,
                                                              progress=False), ("run_dir", "not a folder",
                                                                                "directory"), True),
        case("run_hpo: an objective without evaluate()",
             lambda f: run_hpo(object(), make_scheduler("random", SPACE, 1, 3, max_trials=2),
                               make_backend("sequential"), tmp / f, 0, progress=False), ("evaluate", "objective"),
             True),
        case("Evaluation: info not a dict", lambda: _log_one(tmp, Evaluation(loss=0.1, cost=0.1, info="x")),
             ("info",)),
        case("Evaluation: cost negative", lambda: _log_one(tmp, Evaluation(loss=0.1, cost=-1.0)), ("cost",)),
        case("Evaluation: curve not numbers", lambda: _log_one(tmp, Evaluation(loss=0.1, cost=0.1, curve=("a",))),
             ("curve",)),
    ]


def _log_one(tmp: Path, evaluation: Evaluation) -> None:
    """Run one trial of an objective returning ``evaluation``; the engine must record it as failed or
    refuse it naming the field, not log it as a good result."""
    import uuid

    run_dir = tmp / f"one_{uuid.uuid4().hex[:8]}"
    run_hpo(_Returns(evaluation), make_scheduler("random", _Returns.space, 1, 3, max_trials=1),
            make_backend("sequential"), run_dir, 0, progress=False)
    failures = [e for e in read_events(run_dir / "trials.jsonl") if e.get("event") == "failure"]
    if failures:  # recorded as that evaluation's failure, with a reason: the run went on
        raise ValueError(f"recorded as failed: {failures[0].get('reason')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print the findings and the totals only")
    args = parser.parse_args()
    counts: dict[str, Counter] = {"notebook parameters": Counter(), "engine calls": Counter()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sweeps = {"notebook parameters": [(label, call, names, None) for label, call, names in parameter_cases()],
                  "engine calls": engine_cases(tmp)}
        for sweep, cases in sweeps.items():
            print(f"\n## {sweep} ({len(cases)} inputs)")
            for label, call, names, run_dir in cases:
                kind, message = classify(call, names, run_dir)
                counts[sweep][kind] += 1
                if kind != "named" or not args.quiet:
                    print(f"{kind:8s} {label}" + (f"  ->  {message[:160]}" if message else ""))
    print("\n## totals")
    for sweep, c in counts.items():
        total = sum(c.values())
        print(f"{sweep}: {total} inputs, " + ", ".join(f"{k} {c[k]}" for k in
                                                     ("named", "unclear", "warned", "accepted", "late")))


if __name__ == "__main__":
    main()
