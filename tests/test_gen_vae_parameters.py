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
