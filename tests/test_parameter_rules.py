"""Parameters that contradict each other are refused before any work, by the runner and by the notebook."""
from __future__ import annotations

import pytest

from hpo_kit import parameter_rules as rules, paths
from hpo_kit import run as runner
from hpo_kit.params import ParameterError, check_combination, profile_params
from hpo_kit.session import RunSession


@pytest.mark.parametrize("notebook", runner.discover_notebooks())
def test_every_notebook_declares_its_rules_and_its_profiles_obey_them(notebook):
    assert notebook in rules.NOTEBOOK_PACKAGES, "add the notebook's paper package to NOTEBOOK_PACKAGES"
    for profile in paths.PROFILES:
        profile_params(notebook, profile)  # raises on a contradiction


def workshop(notebook, **changes):
    return {**profile_params(notebook, "workshop"), **changes}


CASES = [
    ("00_quickstart", {"n_train": 59000, "n_val": 2000}, ["n_train (59,000) + n_val (2,000) = 61,000", "<= 60,000"]),
    ("00_quickstart", {"backend": "sequential", "n_workers": 8}, ["backend = 'sequential'", "n_workers = 8"]),
    ("00_quickstart", {"backend": "dask", "dask_address": "my cluster"}, ["dask_address = 'my cluster'", "tcp://"]),
    ("00_quickstart", {"backend": "local", "dask_address": "tcp://10.0.0.5:8786"}, ["only used by backend = 'dask'"]),
    ("01_trl_hpo_mnist", {"n_train_final": 59000, "n_val": 2000}, ["n_train_final (59,000) + n_val (2,000)"]),
    ("01_trl_hpo_mnist", {"methods": []}, ["methods is empty"]),
    ("01_trl_hpo_mnist", {"methods": ["random", "random"]}, ["['random'] more than once"]),
    ("02_mbrl_hpo_ablations", {"tasks": []}, ["tasks is empty"]),
    ("02_mbrl_hpo_ablations", {"tasks": ["xgb_nosuch"]}, ["['xgb_nosuch'] are not in the task registry"]),
    ("02_mbrl_hpo_ablations", {"tasks": ["xgb_wine", "xgb_digits"], "max_rows": 1797},
     ["max_rows = 1797 is at least the row count of every task (largest: xgb_digits, 1797 rows)"]),
    ("02_mbrl_hpo_ablations", {"suite_tasks": ["xgb_wine"], "tasks": ["xgb_wine"]}, ["suite_tasks repeats ['xgb_wine']"]),
    ("02_mbrl_hpo_ablations", {"batch_episodes": 64, "n_episodes": 8}, ["batch_episodes = 64 and n_episodes = 8"]),
    ("02_mbrl_hpo_ablations", {"delta": 0.1, "delta_values": [0.4, 0.9]}, ["must contain a value below delta = 0.1"]),
    ("02_mbrl_hpo_ablations", {"max_n_estimators": 50}, ["max_n_estimators = 50 is at or below n_estimators' lower "
                                                         "bound 50", "no effect"]),
    ("03_bohb_joint_nas_hpo", {"min_budget": 27, "max_budget": 9}, ["min_budget = 27 and max_budget = 9", "<="]),
    ("03_bohb_joint_nas_hpo", {"dataset": "cifar10", "n_train": 49900, "n_val": 300}, ["CIFAR-10's training set has 50,000"]),
    ("03_bohb_joint_nas_hpo", {"backend": "sequential", "n_workers": 2}, ["backend = 'sequential'"]),
    ("03_bohb_joint_nas_hpo", {"min_budget": 9, "max_budget": 9}, ["give 1 budget"]),
    ("05_generative_hpo_hpob", {"data": "kit", "hpob_dir": "/tmp"}, ["hpob_dir", "is not used"]),
    ("05_generative_hpo_hpob", {"data": "auto", "search_space": "5971", "protocol": "continuous",
                                "hpob_dir": "no/such/folder"}, ["hpob_dir", "does not exist"]),
    ("05_generative_hpo_hpob", {"protocol": "continuous"}, ["data = 'hpobench'", "use protocol = 'discrete'"]),
    ("04_abohb_stopping_vs_promotion", {"methods": []}, ["methods is empty"]),
    ("04_abohb_stopping_vs_promotion", {"table_rows": 5000}, ["table_rows = 5,000 is larger", "4,096 rows"]),
    ("04_abohb_stopping_vs_promotion", {"benchmark_path": "nope.npz"}, ["benchmark_path", "does not exist"]),
    ("04_abohb_stopping_vs_promotion", {"n_workers": []}, ["n_workers is empty"]),
    ("04_abohb_stopping_vs_promotion", {"min_resource": 30, "max_resource": 81, "eta": 3}, ["below min_resource * eta = 30 * 3 = 90"]),
    ("04_abohb_stopping_vs_promotion", {"live_n_train": 59500, "live_n_val": 1000}, ["live_n_train (59,500) + live_n_val (1,000)"]),
    ("04_abohb_stopping_vs_promotion", {"live_backend": "sequential", "live_workers": 4}, ["live_backend = 'sequential'", "live_workers = 4"]),
    ("04_abohb_stopping_vs_promotion", {"gp_max_fit_points": 1}, ["gp_max_fit_points = 1"]),
    ("04_abohb_stopping_vs_promotion", {"dask_address": "nohost:port"}, ["dask_address = 'nohost:port'"]),
    ("05_generative_hpo_hpob", {"methods": []}, ["methods is empty"]),
    ("05_generative_hpo_hpob", {"methods": ["random", "random", "gen_vae_faithful"]}, ["['random'] more than once"]),
]


@pytest.mark.parametrize("notebook, changes, words", CASES)
def test_each_contradiction_is_named(notebook, changes, words):
    problems = rules.check_notebook(notebook, workshop(notebook, **changes))
    text = "\n".join(problems)
    for word in words:
        assert word in text, text


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "localhost:8786", "tls://scheduler.example.org:8786",
                                     "tcp://[::1]:8786", "inproc://host"])
def test_addresses_dask_accepts_pass(address):
    assert rules.backend_and_workers({"backend": "dask", "n_workers": 2, "dask_address": address}) == []


def test_a_yaml_file_with_a_contradiction_fails_validate_only_naming_the_file(tmp_path, monkeypatch, capsys):
    params = tmp_path / "params"
    for profile in paths.PROFILES:
        (params / profile).mkdir(parents=True)
        for nb in ("00_quickstart",):
            (params / profile / f"{nb}.yaml").write_text((paths.PARAMS_DIR / profile / f"{nb}.yaml").read_text())
    (params / "smoke" / "00_quickstart.yaml").write_text("profile: smoke\nn_train: 55000\nn_val: 6000\n")
    monkeypatch.setattr(paths, "PARAMS_DIR", params)
    assert runner.main(["--profile", "smoke", "--only", "00", "--validate-only"]) == 2
    err = capsys.readouterr().err
    assert "00_quickstart.yaml" in err and "contradict each other" in err


def test_the_notebook_itself_stops_before_any_work():
    namespace = {k: v for k, v in profile_params("00_quickstart", "smoke").items()}
    namespace.update(n_train=55000, n_val=6000)
    with pytest.raises(ParameterError, match=r"00_quickstart parameters: parameters contradict each other"):
        RunSession.start("00_quickstart", namespace)


def test_all_problems_are_listed_at_once():
    with pytest.raises(ParameterError) as info:
        check_combination("04_abohb_stopping_vs_promotion",
                          workshop("04_abohb_stopping_vs_promotion", methods=[], n_workers=[]), origin="here")
    assert "methods is empty" in str(info.value) and "n_workers is empty" in str(info.value)


def test_a_horizon_beyond_the_measured_rows_of_the_sized_benchmark_is_refused():
    # relative to however many shards of mnist_mlp_4k have landed: just above the supported horizon is refused,
    # naming the parameters and the limit; just below passes
    import warnings

    from hpo_kit.blackboxes.mnist_mlp_large import IncompleteBlackboxWarning
    from hpo_kit.blackboxes.registry import load_blackbox
    from hpo_kit.blackboxes.sizing import table_supported_horizon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteBlackboxWarning)
        limit = table_supported_horizon(load_blackbox("mnist_mlp_4k", cost="cpu"), 8)
    nb = "04_abohb_stopping_vs_promotion"
    text = "\n".join(rules.check_notebook(nb, workshop(nb, benchmark="mnist_mlp_4k", n_workers=[8], table_rows=0,
                                                         horizon_s=round(limit * 1.05, 1))))
    assert "horizon_s = " in text and "with 8 workers" in text and "mnist_mlp_large" in text, text
    assert rules.check_notebook(nb, workshop(nb, benchmark="mnist_mlp_4k", n_workers=[8], table_rows=0,
                                             horizon_s=round(limit * 0.95, 1))) == []
    # without A-BOHB stopping, the method that uses the table up fastest, the same horizon is supported
    assert rules.check_notebook(nb, workshop(nb, benchmark="mnist_mlp_4k", n_workers=[8], table_rows=0,
                                             methods=["random", "asha-promotion", "abohb-promotion"],
                                             horizon_s=round(limit * 1.05, 1))) == []
    # the 512-row table is not refused: notebook 04 shows where its runs exhaust it
    assert rules.check_notebook(nb, workshop(nb, benchmark="mnist_mlp", table_rows=0, horizon_s=600.0)) == []


@pytest.mark.parametrize("cap, refused", [(1, True), (49, True), (50, True), (51, False), (100, False), (0, False)])
def test_mbrl_n_estimators_cap_must_exceed_the_ranges_lower_bound(cap, refused):
    """min(n_estimators, cap) for n_estimators in [50, 1200]: a cap of 50 trains every configuration 50 rounds
    (n_estimators has no effect), so the rule refuses 50 as well as below; 0 means no cap."""
    from hpo_kit.mbrl_hpo import parameters

    problems = parameters.check({"tasks": ["xgb_iris"], "max_n_estimators": cap})
    assert any("max_n_estimators" in p for p in problems) == refused, problems
