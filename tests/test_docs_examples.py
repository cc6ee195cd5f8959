"""The worked examples of the README ("use the engine on your own objective") and of docs/EXTENDING.md
run, and do what the text says they do (issue 25, items 3 and 4).

Each example is a file under ``docs/examples/``; the tests import it by path (its ``__main__`` block
does not run) or run it whole, as a user would. Every check is about the example's effect: the
objective's known optimum is found, the searcher uses its results, the scheduler stops trials by its
rule and saves epochs, the backend runs jobs side by side without changing what they return, the
table round-trips through its file and the tuner finds a good row of it.
"""
from __future__ import annotations

import importlib.util
import math
import runpy
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def load_example(name: str):
    """Import ``docs/examples/<name>.py`` as a module (its ``if __name__ == "__main__"`` part does not run)."""
    spec = importlib.util.spec_from_file_location(f"docs_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses and pickling look classes up by module
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested_here():
    """A new example file without a test here would be documentation nobody runs."""
    source = Path(__file__).read_text(encoding="utf-8")
    for path in sorted(EXAMPLES.glob("*.py")):
        assert f'"{path.stem}"' in source, f"docs/examples/{path.name} has no test in {Path(__file__).name}"


# ------------------------------------------------------------------ README: your own objective

def test_own_objective_finds_the_known_optimum(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                       # the example writes runs/ where it runs
    namespace = runpy.run_path(str(EXAMPLES / "own_objective.py"), run_name="__main__")
    result = namespace["result"]
    # the stand-in's optimum: lr = 0.01, dropout = 0.3, loss 1/27 at 27 epochs (noise sd 0.01)
    assert result.best_resource == 27
    assert result.best_loss < 1 / 27 + 0.1, result.best_loss
    assert abs(math.log10(result.best_config["lr"]) + 2) < 0.4, result.best_config
    assert abs(result.best_config["dropout"] - 0.3) < 0.25, result.best_config
    assert (tmp_path / "runs" / "own_objective" / "trials.jsonl").exists()
    # ASHA stopped most trials early: far fewer epochs than 60 trials x 27
    assert result.total_resource < 0.5 * 60 * 27
    assert "best loss" in capsys.readouterr().out


def test_own_objective_is_reproducible(tmp_path, monkeypatch):
    """Same seed, same run: the searcher, the scheduler and the objective's noise are all seeded."""
    losses = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        result = runpy.run_path(str(EXAMPLES / "own_objective.py"), run_name="__main__")["result"]
        losses.append(result.results["loss"].tolist())
    assert losses[0] == losses[1]


def example_code(name: str) -> str:
    """The example's code without its module docstring: what the README shows."""
    import ast

    source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    first = ast.parse(source).body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        source = "\n".join(source.splitlines()[first.end_lineno:])
    return source.strip() + "\n"


def readme_snippet() -> str | None:
    """The README's Python block that runs the engine on an own objective, if the README has one."""
    import re

    readme = EXAMPLES.parent.parent / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    found = [b for b in blocks if "class MyObjective" in b and "run_hpo(" in b]
    return found[0] if found else None


def test_readme_snippet_is_the_tested_example_and_runs(tmp_path, monkeypatch):
    """The README shows docs/examples/own_objective.py's code (docstring left out), and it runs there too."""
    snippet = readme_snippet()
    assert snippet is not None, "README.md lost its 'use the engine on your own objective' snippet (class MyObjective)"
    assert snippet.strip() == example_code("own_objective").strip(), \
        "README.md's snippet differs from docs/examples/own_objective.py: copy the example's code into the README"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(snippet, "README.md", "exec"), namespace)     # noqa: S102 - the README's own code
    assert namespace["result"].best_loss < 1 / 27 + 0.1


# ------------------------------------------------------------------ EXTENDING: a searcher

def test_custom_searcher_beats_random_search_on_hartmann6():
    example = load_example("custom_searcher")
    local, random = example.best_losses("local"), example.best_losses("random")
    # local search exploits its results: better on every one of the three seeds, and by a clear margin
    assert all(a < b for a, b in zip(local, random)), (local, random)
    assert statistics.mean(local) < statistics.mean(random) - 0.3, (local, random)


def test_custom_searcher_is_seeded_and_checks_its_settings():
    example = load_example("custom_searcher")
    from hpo_kit.objectives.synthetic import Hartmann6MF

    space = Hartmann6MF().space

    def trajectory(seed):
        searcher = example.LocalSearcher(space, seed, n_init=2)
        configs = []
        for trial in range(6):
            config = searcher.suggest()
            searcher.on_result(trial, config, 9, float(sum(config.values())))
            configs.append(config)
        return configs

    assert trajectory(3) == trajectory(3) and trajectory(3) != trajectory(4)
    with pytest.raises(ValueError, match="sigma"):
        example.LocalSearcher(space, 0, sigma=2.0)
    with pytest.raises(ValueError, match="n_init"):
        example.LocalSearcher(space, 0, n_init=0)


# ------------------------------------------------------------------ EXTENDING: a scheduler

def test_custom_scheduler_follows_the_median_rule_and_saves_epochs():
    example = load_example("custom_scheduler")
    median, fifo = example.compare(seed=0, n_trials=40)
    log = median.log
    results = log[log["event"] == "result"]
    stopped = set(log.loc[log["event"] == "stop", "trial_id"])
    completed = set(log.loc[log["event"] == "completed", "trial_id"])
    assert stopped and completed and len(stopped | completed) == 40
    # replay the rule from the log: a trial stops exactly when its best loss so far is worse than the
    # median of the other trials' best losses recorded at that epoch before it (3 of them at least)
    best_so_far, at_epoch = {}, {}
    for row in results.itertuples():
        best = min(best_so_far.get(row.trial_id, math.inf), row.loss)
        best_so_far[row.trial_id] = best
        others = list(at_epoch.setdefault(row.resource, {}).values())
        at_epoch[row.resource][row.trial_id] = best
        should_stop = row.resource < 27 and row.resource >= 3 and len(others) >= 3 and best > statistics.median(others)
        decision = log[(log["trial_id"] == row.trial_id) & (log["resource"] == row.resource)
                       & log["event"].isin(["stop", "continue", "completed"])]["event"].tolist()
        assert decision == (["stop"] if should_stop else ["completed"] if row.resource == 27 else ["continue"]), \
            (row.trial_id, row.resource, decision)
    # what the rule is for: the same 40 configurations for well under half of FIFO's epochs
    assert fifo.total_resource == 40 * 27
    assert median.total_resource < 0.6 * fifo.total_resource
    assert median.best_loss <= fifo.best_loss + 0.5


def test_custom_scheduler_refuses_bad_settings():
    example = load_example("custom_scheduler")
    from hpo_kit.objectives.synthetic import BraninMF
    from hpo_kit.searchers.random_search import RandomSearcher

    searcher = RandomSearcher(BraninMF().space, 0)
    for option in ({"step": 0}, {"grace_period": 1.5}, {"min_samples": True}, {"max_trials": 0}):
        with pytest.raises(ValueError, match=next(iter(option))):
            example.MedianStopping(searcher, 1, 27, **option)


# ------------------------------------------------------------------ EXTENDING: a backend

def test_custom_backend_runs_jobs_side_by_side_and_changes_nothing_else():
    example = load_example("custom_backend")
    threads, sequential = example.compare(n_trials=12, n_workers=4, seed=0)
    assert threads.n_evaluations == sequential.n_evaluations == 12
    by_trial = lambda result: dict(zip(result.results["trial_id"], result.results["loss"]))  # noqa: E731
    assert by_trial(threads) == by_trial(sequential), "a backend decides where jobs run, not what they return"
    assert set(threads.results["worker"]) == {0, 1, 2, 3}
    # the evaluations wait (sleep): four at a time take well under the sequential wall time
    assert threads.elapsed < 0.6 * sequential.elapsed, (threads.elapsed, sequential.elapsed)


def test_custom_backend_turns_an_error_into_a_failure(tmp_path):
    example = load_example("custom_backend")
    from hpo_kit.objectives.synthetic import FaultInjector
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.searchers.random_search import RandomSearcher
    from hpo_kit.tuner import run_hpo

    objective = FaultInjector(example.WaitingBranin(seconds_per_unit=0.001), period=3, kinds=("raise",))
    scheduler = FIFOScheduler(RandomSearcher(objective.space, 0), 1, 9, max_trials=9)
    result = run_hpo(objective, scheduler, example.ThreadPoolBackend(3), tmp_path, seed=0, progress=False)
    failures = result.log[result.log["event"] == "failure"]
    assert result.n_evaluations == 9 and len(failures) == 3
    with pytest.raises(ValueError, match="n_workers"):
        example.ThreadPoolBackend(0)


# ------------------------------------------------------------------ EXTENDING: a tabulated benchmark

def test_custom_benchmark_round_trips_and_is_tuned_on(tmp_path):
    example = load_example("custom_benchmark")
    from hpo_kit.objectives.tabular import LearningCurveTable, TabularObjective

    table = example.measure_table(n_configs=12, n_epochs=9, seed=0)
    assert table.val_error.shape == (12, 9) and np.all(table.epoch_time >= 0)
    # real training: errors fall with the epochs for most rows, and the rows differ
    assert np.nanmean(table.val_error[:, -1] < table.val_error[:, 0]) > 0.5
    assert np.nanstd(table.val_error[:, -1]) > 0.005
    path = tmp_path / "digits_sgd.npz"
    table.to_npz(path)
    loaded = LearningCurveTable.from_npz(path)
    assert loaded.digest() == table.digest()
    objective = TabularObjective(loaded, mode="exact")
    row = 5
    evaluation = objective.evaluate(objective.candidates()[row], 4, seed=0, previous_resource=1)
    assert evaluation.loss == loaded.val_error[row, 3]
    assert evaluation.cost == pytest.approx(loaded.epoch_time[row, 1:4].sum())

    result = example.tune_on_table(loaded, seed=0)
    final = loaded.val_error[:, -1]
    assert result.best_resource == 9 and result.best_loss in final.tolist()
    assert result.best_loss <= np.nanmedian(final), "ASHA found a row better than the median one"
    assert result.total_resource < loaded.val_error.size, "ASHA stopped some rows early"
