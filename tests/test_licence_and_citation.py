"""The kit says how it may be used and cited: LICENSE, CITATION.cff, the README's Citing section."""
import re
import tomllib

import yaml

from hpo_kit import paths

ROOT = paths.NOTEBOOKS_DIR.parent


def test_licence_file_matches_the_project_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and "LICENSE" in meta["license-files"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "fanova" in text  # the non-permissive dependency is named


def test_citation_file_cites_the_kit_and_every_reproduced_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    identifiers = {i["value"] for ref in cff["references"] for i in ref.get("identifiers", [])}
    assert {"arXiv:2403.12237", "arXiv:1807.06906", "arXiv:2003.10865", "arXiv:2106.06257"} <= identifiers
    assert any(ref.get("journal") == "Neurocomputing" for ref in cff["references"])


def test_readme_has_bibtex_for_the_kit_and_the_papers():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Citing"):]
    keys = re.findall(r"@\w+\{(\w+),", section)
    assert len(keys) == 6 and len(set(keys)) == 6
    for arxiv in ("2403.12237", "1807.06906", "2003.10865", "2106.06257"):
        assert arxiv in section
