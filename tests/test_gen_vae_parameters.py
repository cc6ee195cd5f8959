"""Notebook 05's parameter rules: each contradiction is named, every profile obeys them."""
from __future__ import annotations

import pytest

from hpo_kit import parameter_rules as rules, paths
from hpo_kit.gen_vae.parameters import check
from hpo_kit.params import profile_params

NB = "05_generative_hpo_hpob"


@pytest.mark.parametrize("profile", paths.PROFILES)
def test_profiles_obey_the_rules(profile):
    assert check(profile_params(NB, profile)) == []


@pytest.mark.parametrize("changes, words", [
    ({"methods": []}, ["methods is empty"]),
    ({"methods": ["random", "gen_vae_faithful", "random"]}, ["['random'] more than once"]),
    ({"methods": ["gp_ei", "gen_vae_fixed"]}, ["lacks ['random', 'gen_vae_faithful']"]),
    ({"profile": "paper", "data": "fixture"}, ["profile = 'paper' with data = 'fixture'"]),
])
def test_each_contradiction_is_named(changes, words):
    values = {**profile_params(NB, "workshop"), **changes}
    text = "\n".join(rules.check_notebook(NB, values))
    for word in words:
        assert word in text, text


def test_search_space_is_a_parameter_checked_against_the_data():
    from hpo_kit.gen_vae import parameters

    base = {"methods": ["random", "gen_vae_faithful"], "data": "kit"}
    assert not [p for p in parameters.check({**base, "search_space": "5971"}) if "search_space" in p]
    assert any("hold space 5971 only" in p for p in parameters.check({**base, "search_space": "5906"}))
    assert any("search-space id" in p for p in parameters.check({**base, "search_space": "xgb"}))
    assert not [p for p in parameters.check({**base, "data": "hpob", "search_space": "5906"}) if "search_space" in p]


def test_reference_rows_need_space_5971():
    import pandas as pd

    from hpo_kit.gen_vae.claims import reference_claims

    frame = pd.DataFrame({"method": ["random"], "dataset": ["d"], "seed": ["test0"], "trial": [100], "regret": [0.1]})
    rows = reference_claims(frame, 100, "hpob", "continuous", space="5906")
    assert all(r.verdict == "not measured" and "space 5971 only" in r.reason for r in rows)
