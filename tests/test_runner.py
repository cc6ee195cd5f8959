"""The papermill runner on notebooks the test writes: validation first, failures isolated, report built."""
from __future__ import annotations

import json
import time

import nbformat
import pytest

from hpo_kit import paths, run as runner

PARAMS_CELL = '''\
profile: str = "workshop"  # profile name {smoke, workshop, paper}
seed: int = 0  # seed [0, 1000]
x: float = 2.0  # the measured value [0, 10]
'''


def write_notebook(folder, name, body, session=True):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMS_CELL)
    params.metadata["tags"] = ["parameters"]
    start = nbformat.v4.new_code_cell("from hpo_kit.session import RunSession\n"
                                      f"run = RunSession.start({name!r}, globals())")
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params, *([start] if session else []),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A notebooks/ and params/ of the test's own, seen by the runner and by the kernels it starts."""
    nbs, params = tmp_path / "notebooks", tmp_path / "params"
    nbs.mkdir()
    for p in paths.PROFILES:
        (params / p).mkdir(parents=True)
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", nbs)
    monkeypatch.setattr(paths, "PARAMS_DIR", params)
    monkeypatch.setenv("HPO_KIT_NOTEBOOKS", str(nbs))
    monkeypatch.setenv("HPO_KIT_PARAMS", str(params))
    write_notebook(nbs, "01_ok",
                   "from hpo_kit.claims import Claim, decide\nfrom hpo_kit.stats import mean_ci\n"
                   "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
                   "fig, ax = plt.subplots(); ax.plot([0, x]); run.savefig(fig, 'line')\n"
                   "run.metrics['x'] = x\n"
                   "c = Claim(claim='x is above 1', paper='1', source='test', estimand='x', direction='greater', threshold=1)\n"
                   "run.add_claims(decide(c, mean_ci([x, x + 0.1, x - 0.1], c.ci_level)))\n"
                   "run.finish()")
    write_notebook(nbs, "02_fails", "raise RuntimeError('boom in cell')")
    for p in paths.PROFILES:
        (params / p / "01_ok.yaml").write_text("x: 3\n")
        (params / p / "02_fails.yaml").write_text("{}\n")
    return tmp_path


def test_bad_parameter_file_fails_fast_naming_the_key(kit, capsys):
    (kit / "params" / "smoke" / "01_ok.yaml").write_text("x: 30\nwrong_key: 1\n")
    started = time.perf_counter()
    code = runner.main(["--profile", "smoke"])
    err = capsys.readouterr().err
    assert code == 2 and time.perf_counter() - started < 10
    assert "01_ok.yaml" in err and "wrong_key" in err and "nothing was executed" in err
    assert not (paths.runs_dir() / "smoke" / "index.json").exists()


@pytest.mark.parametrize("content, words", [("x: 30\n", ["'x'", "[0, 10]"]),
                                            ("x: ten\n", ["'x'", "number"]),
                                            ("profile: paper\n", ["'profile'", "'smoke'"])])
def test_wrong_type_range_or_profile_is_rejected(kit, capsys, content, words):
    (kit / "params" / "smoke" / "01_ok.yaml").write_text(content)
    assert runner.main(["--profile", "smoke", "--validate-only"]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err


def test_missing_params_file_and_unknown_notebook(kit, capsys):
    (kit / "params" / "paper" / "02_fails.yaml").unlink()
    assert runner.main(["--profile", "paper", "--validate-only"]) == 2
    assert "02_fails.yaml: missing" in capsys.readouterr().err
    assert runner.main(["--profile", "smoke", "--only", "07"]) == 2
    assert "available: 01_ok, 02_fails" in capsys.readouterr().err


@pytest.mark.notebook
def test_run_records_status_results_and_report(kit):
    code = runner.main(["--profile", "smoke"])
    assert code == 1  # one notebook failed; the other still ran
    root = paths.runs_dir() / "smoke"
    index = json.loads((root / "index.json").read_text())
    assert index["01_ok"]["status"] == "ok" and index["02_fails"]["status"] == "failed"
    assert "RuntimeError: boom in cell" in index["02_fails"]["error"]
    assert (root / "01_ok" / "01_ok.ipynb").exists()

    results = json.loads((root / "01_ok" / "results.json").read_text())
    for key in ("notebook", "profile", "duration_s", "data_source", "claims", "metrics"):
        assert key in results
    assert results["profile"] == "smoke" and results["metrics"] == {"x": 3.0}
    assert results["claims"][0]["estimate"] == 3.0 and results["claims"][0]["verdict"] == "holds"
    assert (root / "01_ok" / "figures" / "line.png").exists()

    report = (root / "REPORT.md").read_text()
    assert "| [01_ok](#01_ok) | ok |" in report and "**holds**" in report
    assert "| holds | does not hold | inconclusive | not measured |" in report
    assert "ok | " in report and " s | 1 | 0 | 0 | 0 |" in report  # the four counts of 01_ok
    assert "verdicts below mean nothing" in report  # a smoke report says so
    assert "01_ok/figures/line.png" in report and "boom in cell" in report

    # --only re-runs one notebook and keeps the other's entry in the index
    assert runner.main(["--profile", "smoke", "--only", "01"]) == 0
    assert set(json.loads((root / "index.json").read_text())) == {"01_ok", "02_fails"}


@pytest.mark.notebook
@pytest.mark.parametrize("body, words", [
    ("import time\ntime.sleep(60)", ["time-out"]),
    ("import os\nos._exit(1)", ["kernel died"]),
])
def test_cell_time_out_and_dead_kernel_are_recorded_as_failures(kit, body, words):
    # no session cell: nothing slow (importing torch under load) may run into the short time-out
    write_notebook(kit / "notebooks", "02_fails", body, session=False)
    started = time.perf_counter()
    code = runner.main(["--profile", "smoke", "--only", "02", "--cell-timeout", "3"])
    assert code == 1 and time.perf_counter() - started < 50
    index = json.loads((paths.runs_dir() / "smoke" / "index.json").read_text())
    assert index["02_fails"]["status"] == "failed"
    for w in words:
        assert w in index["02_fails"]["error"]


def test_a_second_run_skips_what_finished_ok_with_the_same_code_and_parameters(kit, capfd):
    capsys = capfd  # file-descriptor capture also sees what the kernel processes print
    assert runner.main(["--profile", "smoke", "--only", "01"]) == 0
    first, first_err = capsys.readouterr()
    assert "[1/1] 01_ok" in first and "time left unknown" in first
    assert "without encryption" not in first + first_err  # kernels talk over IPC, not unencrypted TCP
    results = paths.runs_dir() / "smoke" / "01_ok" / "results.json"
    stamp = results.stat().st_mtime_ns

    assert runner.main(["--profile", "smoke", "--only", "01"]) == 0
    second = capsys.readouterr().out
    assert "skipped" in second and "about" in second and results.stat().st_mtime_ns == stamp

    (kit / "params" / "smoke" / "01_ok.yaml").write_text("x: 4\n")  # other parameters: runs again
    assert runner.main(["--profile", "smoke", "--only", "01"]) == 0
    assert "skipped" not in capsys.readouterr().out
    assert json.loads(results.read_text())["metrics"] == {"x": 4.0}

    assert runner.main(["--profile", "smoke", "--only", "01", "--force"]) == 0
    assert "skipped" not in capsys.readouterr().out


def test_progress_line_estimates_from_recorded_durations():
    line = runner.progress_line(2, 3, "02_x", 75.0, [30.0, None])
    assert line == "[2/3] 02_x · elapsed 1 min 15 s · about 30 s left (+1 never timed)"


def test_a_second_runner_on_the_same_profile_is_refused(kit, capsys):
    """index.json and the run folders belong to one runner at a time (issue 26)."""
    held = runner.lock_profile("workshop")        # as a runner still executing would hold it
    try:
        assert runner.main(["--profile", "workshop", "--only", "01"]) == 2
        err = capsys.readouterr().err
        assert "is in use by another run" in err and "python -m hpo_kit.run --profile workshop" in err
        assert not (paths.runs_dir() / "workshop" / "index.json").exists()   # nothing was executed
        assert runner.main(["--profile", "smoke", "--validate-only"]) == 0   # other profiles and checks go on
    finally:
        held.release()


def test_a_first_run_estimates_from_the_shipped_runtimes(kit, capsys, tmp_path, monkeypatch):
    """No index.json yet: the time left comes from params/recorded_runtimes.yaml, and the line says so."""
    (paths.PARAMS_DIR / "recorded_runtimes.yaml").write_text("smoke:\n  01_ok: 90\n")
    assert runner.recorded_runtimes("smoke") == {"01_ok": 90.0}
    assert runner.recorded_runtimes("paper") == {}
    runner.main(["--profile", "smoke", "--only", "01", "--force"])
    out = capsys.readouterr().out
    assert "about 1 min 30 s left (partly from the kit's recorded runtimes" in out
    assert "time left unknown" not in out


def test_the_shipped_runtimes_name_real_notebooks():
    table = __import__("yaml").safe_load((paths.PARAMS_DIR / "recorded_runtimes.yaml").read_text())
    names = set(runner.discover_notebooks())
    for profile, entry in table.items():
        assert profile in paths.PROFILES and set(entry) <= names and all(v > 0 for v in entry.values())
