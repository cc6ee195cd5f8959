"""The kit's own HPO-B-format meta-dataset: space encoding, split rule, shards, assembly."""
from __future__ import annotations

import gzip
import json
import math
import re
import warnings

import numpy as np
import pytest

from hpo_kit.hpob import HPOBHandler, kit_space
from hpo_kit.hpob import measure_kit_meta as mk
from hpo_kit.hpob.kit_meta import SHARDS_DIR, PartialMetaDatasetWarning, build_hpob_folder, read_shards


def test_encoding_has_hpob_columns_and_missing_pattern():
    configs = kit_space.sample_configs(500, np.random.default_rng(0))
    X = np.array([kit_space.encode(c) for c in configs])
    assert X.shape == (500, 16) and len(kit_space.COLUMNS) == 16
    assert X.min() >= 0 and X.max() <= 1
    col = {name: X[:, i] for i, name in enumerate(kit_space.COLUMNS)}
    linear = col["booster.ohe._gblinear"] == 1
    assert np.all(col["booster.ohe._INVALID"] + col["booster.ohe._gblinear"] == 1)
    for name in ("max_depth", "min_child_weight", "colsample_bytree", "colsample_bylevel"):
        assert np.all(col[f"{name}.na"] == linear), name  # tree-only parameters are missing for gblinear
    assert np.all(col["max_depth"][linear] == 0) and np.all(col["min_child_weight"][linear] == 0)
    assert np.all(col["nrounds.na"] == 0)
    assert 0.35 < linear.mean() < 0.65
    # eta is log-scaled: the median config has eta near 2^-5 (the log midpoint), scaled to ~0.5
    assert abs(np.median(col["eta"]) - 0.5) < 0.1
    rounds = np.array([c["nrounds"] for c in configs])
    assert rounds.min() >= 1 and rounds.max() <= 300


def test_encoding_of_a_known_config():
    c = {"booster": "gbtree", "eta": 2.0 ** -5, "max_depth": 15, "min_child_weight": 128.0, "subsample": 0.5,
         "colsample_bytree": 0.25, "colsample_bylevel": 1.0, "lambda": 1.0, "alpha": 2.0 ** 10, "nrounds": 150}
    x = kit_space.encode(c)
    assert x == pytest.approx([0.5, 1.0, 0, 1.0, 0, 0.5, 0.25, 0, 1.0, 0, 0.5, 1.0, 0.5, 0, 1, 0])
    params, rounds = kit_space.xgb_params(c, seed=3, n_classes=2)
    assert rounds == 150 and params["nthread"] == 1 and params["objective"] == "binary:logistic"


def test_split_follows_hpob_rule():
    tasks = mk.all_tasks()
    assert len(tasks) == 93 and len({t.task_id for t in tasks}) == 93
    plan = mk.split_plan(tasks)
    counts = {s: sum(v == s for v in plan.values()) for s in ("meta-train", "meta-validation", "meta-test")}
    # ceil(0.8 * 93) = 75 train, ceil(0.9 * 93) - 75 = 9 validation, the rest test
    assert counts == {"meta-train": 75, "meta-validation": 9, "meta-test": 9}
    assert plan == mk.split_plan(tasks)  # fixed before measuring
    order = mk.measurement_order(tasks, plan)
    assert [plan[t.task_id] for t in order[:9]] == ["meta-test"] * 9  # test tasks measured first
    # too few tasks or evaluations: HPO-B gives the space no test split
    assert set(mk.split_plan(tasks[:10]).values()) == {"meta-train"}
    assert set(mk.split_plan(tasks, n_configs=99).values()) == {"meta-train"}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    for tid, split in (("wine", "meta-test"), ("breast_cancer", "meta-train"), ("digits-3v8", "meta-validation")):
        spec = next(t for t in mk.all_tasks() if t.task_id == tid)
        mk.write_shard(mk.measure_task(spec, split, n_configs=12), out)
    mk.ensure_surrogate("wine", out)  # HPO-B's recipe on the meta-test task
    return out


def test_shard_contents_and_determinism(shards, tmp_path):
    shard = json.loads(gzip.decompress((shards / "wine.json.gz").read_bytes()))
    assert len(shard["X"]) == len(shard["y"]) == 12 and len(shard["X"][0]) == 16
    assert all(0 <= v[0] <= 1 for v in shard["y"]) and shard["n_classes"] == 3
    assert len({v[0] for v in shard["y"]}) > 1  # the response varies over configurations
    assert set(shard["bo_initializations"]) == set(f"test{i}" for i in range(5))
    assert all(len(v) == 5 for v in shard["bo_initializations"].values())
    assert "not HPO-B" in shard["note"] and shard["environment"]["packages"]["xgboost"]
    assert re.fullmatch(r"[0-9a-f]{64}", shard["data"]["data_sha256"])
    spec = next(t for t in mk.all_tasks() if t.task_id == "wine")
    again = mk.write_shard(mk.measure_task(spec, "meta-test", n_configs=12), tmp_path)
    a, b = json.loads(gzip.decompress(again.read_bytes())), shard
    for key in ("X", "y", "configs", "bo_initializations", "data", "seeds"):
        assert a[key] == b[key], key


def test_build_partial_folder_read_by_handler(shards, tmp_path):
    with pytest.warns(PartialMetaDatasetWarning, match="3 of 93 tasks"):
        folder = build_hpob_folder(tmp_path / "kit", shards)
    h = HPOBHandler(folder, mode="v3")
    assert h.info["partial"] is True and h.info["tasks_done"] == 3 and "not HPO-B" in h.info["source"]
    assert h.get_datasets("5971") == ["wine"]
    assert list(h.tasks("5971", "meta-train")) == ["breast_cancer"]
    assert list(h.tasks("5971", "meta-validation")) == ["digits-3v8"]
    curve = h.evaluate(_First(), "5971", "wine", "test0", 5)
    assert len(curve) == 6
    assert h.surrogates_dir == folder.parent / "saved-surrogates" and h.info["surrogates"] == ["surrogate-5971-wine"]
    cont = h.evaluate_continuous(_Centre(), "5971", "wine", "test1", 4)
    assert len(cont) == 5 and all(0 <= v <= 1 for v in cont)
    blob = "".join(p.read_text() for p in folder.glob("*.json"))
    assert "/work/" not in blob and "/home/" not in blob  # no machine paths in shipped metadata
    with pytest.raises(ValueError, match="partial: 3 of 93"):
        build_hpob_folder(tmp_path / "kit2", shards, require_complete=True)
    mtime = (folder / "meta-test-dataset.json").stat().st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_hpob_folder(tmp_path / "kit", shards)  # unchanged shards: not rebuilt
    assert (folder / "meta-test-dataset.json").stat().st_mtime_ns == mtime


def test_duplicates_dropped_and_initial_designs_remapped(shards, tmp_path):
    src = json.loads(gzip.decompress((shards / "wine.json.gz").read_bytes()))
    src["X"][5] = list(src["X"][2])  # row 5 repeats row 2
    src["y"][5] = list(src["y"][2])
    src["bo_initializations"] = {f"test{i}": [2, 5, 7] for i in range(5)}
    d = tmp_path / "dup"
    mk.write_shard(src, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = HPOBHandler(build_hpob_folder(tmp_path / "dupkit", d))
    X, _ = h.task("5971", "wine")
    assert len(X) == 11
    assert h.initial_design("5971", "wine", "test0") == [2, 6]  # 5 -> 2 (same config), 7 -> 6


class _Centre:
    def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
        return np.full(X_obs.shape[1], 0.5)


class _First:
    def observe_and_suggest(self, X_obs, y_obs, X_pen=None):
        return 0


def test_cli_rejects_unknown_tasks(capsys):
    with pytest.raises(SystemExit):
        mk.main(["--tasks", "mnist-0v0", "--list"])
    assert "unknown --tasks" in capsys.readouterr().err


def test_shipped_shards_are_well_formed():
    shards = read_shards(SHARDS_DIR) if SHARDS_DIR.is_dir() else []
    if not shards:
        pytest.skip("no measured shards yet")
    plan = mk.split_plan(mk.all_tasks())
    for s in shards:
        assert s["split"] == plan[s["task_id"]], s["task_id"]
        assert len(s["X"]) == len(s["y"]) == mk.N_CONFIGS and s["columns"] == list(kit_space.COLUMNS)
        assert all(math.isfinite(v[0]) and 0 <= v[0] <= 1 for v in s["y"])
        assert "not HPO-B" in s["note"]
        assert "/work/" not in json.dumps(s) and "/home/" not in json.dumps(s)


def test_open_benchmark_prefers_real_data(shards, tmp_path, monkeypatch):
    from pathlib import Path

    from hpo_kit.hpob.kit_meta import open_benchmark

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPO_KIT_HPOB", str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="python -m hpo_kit.hpob.download"):
        open_benchmark("hpob")
    with pytest.warns(PartialMetaDatasetWarning):
        kit = open_benchmark("auto", kit_out_dir=tmp_path / "k", shards_dir=shards)
    assert kit.source == "kit" and kit.get_datasets("5971") == ["wine"]
    monkeypatch.setenv("HPO_KIT_HPOB", str(Path(__file__).parent / "fixtures" / "hpob_tiny"))
    real = open_benchmark("auto")
    assert real.source == "hpob" and real.surrogates_stats and real.mode == "v3"
    with pytest.raises(ValueError, match="source must be one of"):
        open_benchmark("openml")
