"""The TRL-HPO evaluation cache: only a cut-off last line is tolerated; any other damage is named."""
from __future__ import annotations

import json

import pytest

from hpo_kit.trl_hpo.cache import CachedEvaluation, EvaluationCache


def entry(key: str) -> CachedEvaluation:
    return CachedEvaluation(key, [{"type": "fc", "units": 8}], [0.5, 0.75], 1.5)


def filled(tmp_path, n=3) -> EvaluationCache:
    cache = EvaluationCache(tmp_path, "m")
    for i in range(n):
        cache.put(entry(f"k{i}"))
    return cache


def test_results_come_back(tmp_path):
    filled(tmp_path)
    again = EvaluationCache(tmp_path, "m")
    assert len(again) == 3 and again.get("k1").accuracy == pytest.approx(0.625)


def test_a_cut_off_last_line_is_dropped_and_cut_so_appending_stays_clean(tmp_path):
    cache = filled(tmp_path)
    with cache.path.open("a") as f:
        f.write(json.dumps({"key": "k9", "layers": [], "perf": [0.1]})[:20])  # died mid-write
    again = EvaluationCache(tmp_path, "m")
    assert len(again) == 3 and "k9" not in again
    again.put(entry("k3"))
    lines = again.path.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["key"].startswith("k") for line in lines)
    assert len(EvaluationCache(tmp_path, "m")) == 4


@pytest.mark.parametrize("damage, says", [
    ("not json at all", "line 2 is not valid JSON"),
    (json.dumps({"key": "x", "layers": [], "perf": [0.5]}), "lacks the field(s) ['train_time_s']"),
    (json.dumps([1, 2]), "line 2 is not an object"),
    (json.dumps({"key": "x", "layers": [], "perf": ["a"], "train_time_s": 1}), "expected numbers"),
    (json.dumps({"key": "x", "layers": [], "perf": [], "train_time_s": 1}), "impossible entry"),
    (json.dumps({"key": "x", "layers": [], "perf": [float("nan")], "train_time_s": 1}), "impossible entry"),
])
def test_a_damaged_complete_line_is_an_error_naming_file_and_line(tmp_path, damage, says):
    cache = filled(tmp_path, n=1)
    with cache.path.open("a") as f:
        f.write(damage + "\n")
        f.write(json.dumps({"key": "k5", "layers": [], "perf": [0.5], "train_time_s": 1.0}) + "\n")
    with pytest.raises(ValueError) as info:
        EvaluationCache(tmp_path, "m")
    assert str(cache.path) in str(info.value) and says in str(info.value)


def test_a_failed_write_names_the_file(tmp_path, monkeypatch):
    cache = filled(tmp_path, n=1)
    import pathlib

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "open", full_disk)
    with pytest.raises(OSError) as info:
        cache.put(entry("k7"))
    assert str(cache.path) in str(info.value) and "No space left" in str(info.value)
