"""RunSession: parameters checked in the notebook itself, seeding, figures, results.json."""
from __future__ import annotations

import json

import matplotlib
import nbformat
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hpo_kit import paths, progress  # noqa: E402
from hpo_kit.claims import Claim, decide  # noqa: E402
from hpo_kit.stats import mean_ci  # noqa: E402
from hpo_kit.params import ParameterError  # noqa: E402
from hpo_kit.session import RunSession  # noqa: E402

CELL = '''profile: str = "workshop"  # profile {smoke, workshop, paper}
seed: int = 0  # seed [0, 100]
lr: float = 0.1  # learning rate [0.0001, 1.0]
'''


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(CELL)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "07_demo.ipynb")
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", tmp_path)
    return "07_demo"


def test_bad_injected_value_is_caught_in_the_notebook(notebook):
    with pytest.raises(ParameterError, match=r"'lr' is 5.0, outside its range; allowed: float in \[0.0001, 1\]"):
        RunSession.start(notebook, {"profile": "smoke", "seed": 0, "lr": 5})


def test_same_seed_same_random_numbers_and_coercion(notebook):
    namespace = {"profile": "smoke", "seed": 3, "lr": 1}
    RunSession.start(notebook, namespace)
    first = torch.rand(3)
    RunSession.start(notebook, dict(namespace))
    assert torch.equal(first, torch.rand(3))
    assert isinstance(namespace["lr"], float)  # coerced in the notebook's namespace
    assert torch.get_num_threads() == 1


def test_results_json_has_claims_metrics_figures_and_environment(notebook):
    run = RunSession.start(notebook, {"profile": "smoke", "seed": 0, "lr": 0.5})
    run.use_data("synthetic test data")
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    run.savefig(fig, "curve", caption="Error after each step. ")
    with pytest.raises(TypeError, match="caption must be a string"):
        run.savefig(fig, "curve", caption=3)
    run.metrics["error"] = 0.25
    small = Claim(claim="error is small", paper="< 0.3", source="here", estimand="error", direction="less",
                  threshold=0.3)
    run.add_claims(decide(small, mean_ci([0.25, 0.24, 0.26, 0.25], small.ci_level)))
    results = json.loads(run.finish().read_text())
    assert results["data_source"] == "synthetic test data"
    assert results["claims"][0]["verdict"] == "holds" and results["metrics"] == {"error": 0.25}
    assert results["verdict_counts"] == {"holds": 1, "does not hold": 0, "inconclusive": 0, "not measured": 0}
    assert results["figures"] == ["figures/curve.png"]
    assert results["figure_captions"] == {"curve.png": "Error after each step."}
    assert (run.dir / "figures" / "curve.pdf").exists()
    env = results["environment"]
    assert env["torch_threads"] == 1 and env["packages"]["torch"].startswith("2.13")
    assert results["params"] == {"profile": "smoke", "seed": 0, "lr": 0.5}
    # the record's provenance (issue 27): CPU time, and the digest that flags results of older code as stale
    assert results["cpu_s"] >= 0 and "code_digest" in results


def test_the_code_digest_is_the_paper_package_s():
    from hpo_kit.null_checks import code_digest
    from hpo_kit.session import notebook_code_digest

    assert notebook_code_digest("03_bohb_joint_nas_hpo") == code_digest("nas")
    assert notebook_code_digest("05_generative_hpo_hpob") == code_digest("gen_vae") != code_digest("nas")
    assert notebook_code_digest("99_mine") == ""


def test_claims_must_be_decided_rows(notebook):
    run = RunSession.start(notebook, {"profile": "smoke", "seed": 0, "lr": 0.5})
    with pytest.raises(TypeError, match="hpo_kit.claims.decide"):
        run.add_claims([{"claim": "typed verdict", "verdict": "holds"}])


def test_progress_is_plain_text_in_batch_and_auto_interactively(monkeypatch):
    from tqdm import tqdm as plain

    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    assert type(progress.progress(range(3))) is plain
    monkeypatch.setenv("HPO_KIT_BATCH", "0")
    monkeypatch.delenv("CI", raising=False)
    import tqdm.auto

    assert isinstance(progress.progress(range(3)), tqdm.auto.tqdm)


def test_a_misspelt_papermill_parameter_is_refused_naming_it(notebook):
    """papermill only warns about ``-p seeed 3`` and runs the notebook with seed 0 (issue 26)."""
    injected = "# Parameters\nseeed = 3\nlr = 0.2\n"
    namespace = {"profile": "smoke", "seed": 0, "lr": 0.2, "seeed": 3,
                 "In": ["", "profile: str = 'workshop'\n...", injected, "run = RunSession.start(...)"]}
    with pytest.raises(ParameterError, match=r"does not declare: 'seeed' = 3 \(did you mean 'seed'\?\).*"
                                             r"Allowed: profile, seed, lr"):
        RunSession.start(notebook, namespace)
    namespace["In"][2] = "# Parameters\nseed = 3\nlr = 0.2\n"      # declared names pass
    namespace.pop("seeed")
    assert RunSession.start(notebook, namespace).seed == 0


def test_no_method_colour_is_the_grey_of_reference_lines(notebook):
    """Notebook 05's eighth method was drawn in C7 (grey) beside a dashed grey reference (issue 25)."""
    import matplotlib as mpl
    from matplotlib.colors import to_rgb

    RunSession.start(notebook, {"profile": "smoke", "seed": 0, "lr": 0.5})
    cycle = [to_rgb(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert len(cycle) >= 8 and len(set(cycle)) == len(cycle)
    assert all(max(rgb) - min(rgb) > 0.2 for rgb in cycle)  # no grey (equal channels) among them
