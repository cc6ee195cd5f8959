"""Bad inputs refused before work, with the parameter, the value and what is allowed (issue 26)."""
from __future__ import annotations

import warnings

import pytest

from hpo_kit import parameter_rules as rules
from hpo_kit.blackboxes import mnist_mlp_curves as mc
from hpo_kit.blackboxes import mnist_mlp_large as ml
from hpo_kit.train import synthetic_splits

DATA = {"dataset": "synthetic splits (test)"}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A complete 3-shard measurement of the sharded benchmark, in a folder of its own."""
    folder = tmp_path_factory.mktemp("shards")
    settings = ml.ShardSettings(n_configs=6, shard_size=2, max_epochs=2, n_train=40, n_val=20, n_test=10)
    ml.measure_shards(settings, folder, splits=synthetic_splits(40, 20, 10, seed=5), data=DATA,
                      log=lambda _message: None)
    return folder


def test_a_damaged_shard_is_an_error_naming_the_file_not_a_smaller_table(measured, tmp_path):
    """A damaged shard 1 made the loader return shard 0 alone with a warning (notebook 04 then
    blamed horizon_s for the missing rows)."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(measured, folder)
    path = ml.shard_path(folder, 1)
    path.write_bytes(path.read_bytes()[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"shard file\(s\) are damaged \(cannot read shard shard_00001\.npz.*"
                                             r"Restore them"):
            ml.load_large_table(folder)
    assert ml.shard_status(folder).damaged[0][0] == 1
    # a shard not measured yet is still a measurement under way: a warning and the finished prefix
    path.unlink()
    with pytest.warns(ml.IncompleteBlackboxWarning):
        assert ml.load_large_table(folder).n_configs == 2


def test_more_rows_than_the_table_has_are_refused(measured, tmp_path):
    with pytest.raises(ValueError, match=r"max_rows = 7 is larger than the 6 rows of mnist_mlp_4k.*allowed: 1\.\.6"):
        ml.load_large_table(measured, max_rows=7)
    assert ml.load_large_table(measured, max_rows=6).n_configs == 6
    table = mc.load_table(max_rows=3)
    n = mc.load_table().n_configs
    assert table.n_configs == 3
    with pytest.raises(ValueError, match=rf"max_rows = {n + 1} is larger than the {n} rows"):
        mc.load_table(max_rows=n + 1)


def test_public_tables_refuse_a_subset_larger_than_the_file():
    from hpo_kit.blackboxes import public

    assert len(public._subset(10, 10)) == 10 and len(public._subset(10, None)) == 10
    with pytest.raises(ValueError, match=r"max_rows = 11 is larger than the 10 rows"):
        public._subset(10, 11)


def test_path_rules_name_the_parameter_the_value_and_what_to_do(tmp_path):
    assert rules.existing_path({"benchmark_path": ""}, "benchmark_path") == []
    assert rules.existing_path({"benchmark_path": str(tmp_path)}, "benchmark_path") == []
    missing = str(tmp_path / "nowhere")
    [problem] = rules.existing_path({"benchmark_path": missing}, "benchmark_path", empty_means="the shipped file")
    assert f"benchmark_path = {missing!r} does not exist" in problem and "the shipped file" in problem
    [problem] = rules.existing_path({"hpob_dir": str(tmp_path)}, "hpob_dir", used=False,
                                    unused_because="with data = 'kit' (only data = 'hpob' or 'auto' read HPO-B's files)")
    assert "hpob_dir = " in problem and "is not used with data = 'kit'" in problem and "leave hpob_dir empty" in problem


def test_row_and_budget_rules():
    assert rules.rows_within({"table_rows": 0}, "table_rows", 4096, "mnist_mlp_4k") == []
    assert rules.rows_within({"table_rows": 4096}, "table_rows", 4096, "mnist_mlp_4k") == []
    [problem] = rules.rows_within({"table_rows": 5000}, "table_rows", 4096, "mnist_mlp_4k")
    assert "table_rows = 5,000 is larger than mnist_mlp_4k, which has 4,096 rows; allowed: 1..4,096, or 0" in problem
    assert rules.budget_levels({"min_budget": 1, "max_budget": 9, "eta": 3}, "min_budget", "max_budget", "eta") == []
    assert rules.budget_levels({"min_budget": 1, "max_budget": 3, "eta": 3}, "min_budget", "max_budget", "eta") == []
    [problem] = rules.budget_levels({"min_budget": 3, "max_budget": 8, "eta": 3}, "min_budget", "max_budget", "eta")
    assert "give 1 budget (3)" in problem and "raise max_budget to >= 9" in problem
    assert rules.budget_levels({"min_budget": 1, "max_budget": 9, "eta": 3}, "min_budget", "max_budget", "eta",
                               at_least=4)


def test_the_bad_input_sweep_finds_every_input_refused_with_a_named_error(tmp_path):
    """bench/bad_inputs.py: 440 notebook-parameter inputs and the engine calls, each refused before any
    evaluation with a message that names the parameter or the value (issue 26)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import bad_inputs

    cases = [(label, call, names, None) for label, call, names in bad_inputs.parameter_cases()]
    cases += bad_inputs.engine_cases(tmp_path)
    assert len(cases) > 400
    findings = [(label, *bad_inputs.classify(call, names, run_dir)) for label, call, names, run_dir in cases]
    assert [f for f in findings if f[1] != "named"] == []
