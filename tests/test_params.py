"""The parameters-cell convention: parsing, validation errors that name key and rule."""
from __future__ import annotations

import pytest

from hpo_kit.params import ParameterError, parse_parameters_cell, validate_values

CELL = '''\
profile: str = "workshop"  # profile name {smoke, workshop, paper}
seed: int = 0  # seed of every random source [0, 1000000]
lr: float = 0.01  # learning rate [1e-05, 1.0]
widths: list[int] = [16, 32]  # layer widths [1, 1024]
backend: str = "local"  # where evaluations run {sequential, local, dask}
plot: bool = True  # draw figures
note: str = "a # inside"  # free text, no rule
'''


def specs():
    return parse_parameters_cell(CELL)


def test_parse_reads_types_defaults_and_rules():
    s = specs()
    assert list(s) == ["profile", "seed", "lr", "widths", "backend", "plot", "note"]
    assert s["seed"].low == 0 and s["seed"].high == 1_000_000
    assert s["lr"].default == 0.01 and s["lr"].low == 1e-5
    assert s["backend"].choices == ("sequential", "local", "dask")
    assert s["widths"].type_name == "list[int]" and s["widths"].high == 1024
    assert s["note"].default == "a # inside" and s["note"].choices is None
    assert s["plot"].description == "draw figures"


def test_valid_values_are_coerced():
    out = validate_values(specs(), {"lr": 1, "widths": [8]}, "t.yaml")
    assert out == {"lr": 1.0, "widths": [8]} and isinstance(out["lr"], float)


@pytest.mark.parametrize("values, words", [
    ({"lerning_rate": 0.1}, ["t.yaml", "unknown", "'lerning_rate'", "allowed", "lr"]),
    ({"seed": "zero"}, ["t.yaml", "'seed'", "integer", "[0, 1000000]"]),
    ({"seed": 1.5}, ["'seed'", "integer"]),
    ({"seed": True}, ["'seed'", "integer"]),
    ({"lr": 3.0}, ["'lr'", "outside", "[1e-05, 1]"]),
    ({"backend": "gpu"}, ["'backend'", "'gpu'", "{sequential, local, dask}"]),
    ({"widths": [16, 0]}, ["'widths'", "outside", "[1, 1024]"]),
    ({"widths": 16}, ["'widths'", "must be a list"]),
    ({"plot": "yes"}, ["'plot'", "true or false"]),
])
def test_invalid_values_name_file_key_and_rule(values, words):
    with pytest.raises(ParameterError) as err:
        validate_values(specs(), values, "t.yaml")
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("cell, words", [
    ("x = 3  # untyped\n", ["name: type = literal"]),
    ("x: dict = {}  # a dict\n", ["'x'", "allowed types"]),
    ("x: int = 3\n", ["'x'", "needs a comment"]),
    ("x: int = 50  # too big [0, 10]\n", ["'x'", "outside"]),
    ("x: int = f(3)  # call\n", ["'x'", "literal"]),
])
def test_bad_parameters_cells_are_rejected(cell, words):
    with pytest.raises(ParameterError) as err:
        parse_parameters_cell(cell)
    for w in words:
        assert w in str(err.value)


def test_a_key_given_twice_in_a_params_file_is_an_error(tmp_path):
    from hpo_kit.params import read_params_file

    path = tmp_path / "nb.yaml"
    path.write_text("seed: 1\nlr: 0.1\nseed: 2\n")
    with pytest.raises(ParameterError, match=r"nb.yaml.*key 'seed' is given twice \(lines 1 and 3\)"):
        read_params_file(path)
    path.write_text("seed: 1\nnested: {a: 1, b: 2}\n")
    assert read_params_file(path) == {"seed": 1, "nested": {"a": 1, "b": 2}}
