"""UnitCubeEncoder: round trips, cube membership, conditions, forbidden clauses, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    GreaterThanCondition,
    InCondition,
    Integer,
    OrdinalHyperparameter,
)
from ConfigSpace.util import deactivate_inactive_hyperparameters

from hpo_kit.spaces import UnitCubeEncoder, validate_space


def mixed_space() -> ConfigurationSpace:
    space = ConfigurationSpace(name="mixed", seed=0)
    opt = Categorical("opt", ["sgd", "adam", "rmsprop"], default="adam")
    momentum = Float("momentum", (0.0, 0.99), default=0.9)
    n_layers = Integer("n_layers", (1, 4), default=1)
    units2 = Integer("units2", (8, 256), log=True, default=32)
    nesterov = Categorical("nesterov", [True, False])  # grandchild: opt -> momentum -> nesterov
    space.add([
        opt, momentum, n_layers, units2, nesterov,
        Float("lr", (1e-5, 1e-1), log=True, default=1e-3),
        Float("dropout", (0.0, 0.5)),
        OrdinalHyperparameter("batch", [16, 32, 64, 128]),
        Constant("activation", "relu"),
    ])
    space.add([
        EqualsCondition(momentum, opt, "sgd"),
        InCondition(units2, n_layers, [2, 3, 4]),
        GreaterThanCondition(nesterov, momentum, 0.5),
    ])
    return space


def test_dimensions_kinds_and_choices():
    enc = UnitCubeEncoder(mixed_space())
    assert enc.dim == 8  # the constant has no dimension
    kinds = dict(zip(enc.names, enc.kinds))
    assert kinds == {"opt": "categorical", "momentum": "float", "n_layers": "integer",
                     "units2": "integer", "nesterov": "categorical", "lr": "float",
                     "dropout": "float", "batch": "ordinal"}
    n_choices = dict(zip(enc.names, enc.n_choices))
    assert n_choices["opt"] == 3 and n_choices["batch"] == 4 and n_choices["n_layers"] == 4
    assert n_choices["units2"] == 249 and n_choices["lr"] == 0
    assert enc.is_categorical.tolist() == [k == "categorical" for k in enc.kinds]


def test_round_trip_of_sampled_configurations_and_in_cube():
    space = mixed_space()
    enc = UnitCubeEncoder(space)
    for config in space.sample_configuration(200):
        config = dict(config)
        x = enc.encode(config)
        active = ~np.isnan(x)
        assert np.all((x[active] >= 0) & (x[active] <= 1))
        assert set(np.array(enc.names)[active]) == set(config) - {"activation"}
        back = enc.decode(x)
        assert back.keys() == config.keys()
        for name, value in config.items():
            if isinstance(value, float):
                assert math.isclose(back[name], value, rel_tol=1e-9, abs_tol=1e-12), name
            else:
                assert back[name] == value, name


def test_log_scale_and_integer_encoding():
    enc = UnitCubeEncoder(mixed_space())
    i_lr, i_units = enc.names.index("lr"), enc.names.index("units2")
    base = {"opt": "adam", "n_layers": 2, "units2": 8, "dropout": 0.0, "batch": 16, "lr": 1e-3}
    # 1e-3 is the geometric middle of [1e-5, 1e-1]
    assert enc.encode(base)[i_lr] == pytest.approx(0.5)
    # integers own equal (log-)width bins: the extremes are half a bin inside the cube
    lo, hi = math.log(7.5), math.log(256.5)
    assert enc.encode(base)[i_units] == pytest.approx((math.log(8) - lo) / (hi - lo))
    x = enc.encode(base)
    x[i_units] = 0.0
    assert enc.decode(x)["units2"] == 8
    x[i_units] = 1.0
    assert enc.decode(x)["units2"] == 256


def test_uniform_cube_gives_uniform_choices_and_log_uniform_floats():
    enc = UnitCubeEncoder(mixed_space())
    rng = np.random.default_rng(0)
    X = rng.random((3000, enc.dim))
    configs = [enc.decode(x) for x in X[:600]]
    counts = np.bincount([["sgd", "adam", "rmsprop"].index(c["opt"]) for c in configs], minlength=3)
    assert counts.min() > 150  # ~200 each
    layers = np.bincount([c["n_layers"] for c in configs], minlength=5)[1:]
    assert layers.min() > 110  # ~150 each, the end points are not halved
    lrs = np.log10([c["lr"] for c in configs])
    assert abs(np.mean(lrs < -3) - 0.5) < 0.07  # half the mass below the geometric middle


def test_categorical_and_ordinal_bin_centres():
    enc = UnitCubeEncoder(mixed_space())
    config = {"opt": "rmsprop", "n_layers": 1, "dropout": 0.1, "batch": 64, "lr": 1e-2}
    x = enc.encode(config)
    assert x[enc.names.index("opt")] == pytest.approx(2.5 / 3)
    assert x[enc.names.index("batch")] == pytest.approx(2.5 / 4)
    with pytest.raises(ValueError, match="opt='nadam' is not one of"):
        enc.encode({**config, "opt": "nadam"})
    with pytest.raises(ValueError, match="lr=.* outside its range"):
        enc.encode({**config, "lr": 1.0})
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        enc.encode({**config, "beta": 1.0})


def test_conditions_inactive_nan_impute_and_decode_drops_inactive():
    space = mixed_space()
    enc = UnitCubeEncoder(space)
    adam = {"opt": "adam", "n_layers": 1, "dropout": 0.1, "batch": 32, "lr": 1e-3,
            "activation": "relu"}
    x = enc.encode(adam)
    inactive = {"momentum", "units2", "nesterov"}
    assert {n for n, v in zip(enc.names, x) if np.isnan(v)} == inactive
    imputed = enc.impute(x)
    assert not np.isnan(imputed).any()
    i_mom = enc.names.index("momentum")
    assert imputed[i_mom] == pytest.approx(0.9 / 0.99)  # the encoded default
    # garbage in inactive dimensions is ignored when decoding
    x_noise = imputed.copy()
    x_noise[i_mom] = 0.123
    assert enc.decode(x_noise) == adam
    # switching the parent on activates the child; a NaN child takes its default
    x_sgd = x.copy()
    x_sgd[enc.names.index("opt")] = 0.5 / 3
    sgd = enc.decode(x_sgd)
    assert sgd["opt"] == "sgd" and sgd["momentum"] == pytest.approx(0.9)
    assert "nesterov" in sgd  # momentum 0.9 > 0.5 activates the grandchild
    x_sgd[i_mom] = 0.1
    assert "nesterov" not in enc.decode(x_sgd)
    Configuration(space, values=sgd)  # valid


def test_canonicalize_equals_encode_of_decode_and_configspace_conditions():
    space = mixed_space()
    enc = UnitCubeEncoder(space)
    X = np.random.default_rng(1).random((300, enc.dim))
    C = enc.canonicalize(X)
    for x, c in zip(X, C):
        config = enc.decode(x)
        np.testing.assert_allclose(enc.encode(config), c, rtol=0, atol=1e-9)  # ConfigSpace rounds
        # ConfigSpace agrees on which hyperparameters are active
        full = {**enc.constants, **{n: config.get(n) for n in enc.names}}
        full.update({n: space[n].default_value for n in enc.names if full[n] is None})
        expected = dict(deactivate_inactive_hyperparameters(full, space))
        assert set(expected) == set(config)


def test_forbidden_clauses_are_detected_and_avoided_by_sample():
    space = ConfigurationSpace(seed=0)
    space.add([Categorical("a", ["x", "y"]), Float("b", (0.0, 1.0))])
    space.add(ForbiddenEqualsClause(space["a"], "y"))
    enc = UnitCubeEncoder(space)
    X = np.array([[0.25, 0.5], [0.75, 0.5]])
    assert enc.is_forbidden(X).tolist() == [False, True]
    samples = enc.sample(np.random.default_rng(0), 50)
    assert not enc.is_forbidden(samples).any() and len(samples) == 50


def test_validate_space_errors_name_the_problem():
    with pytest.raises(TypeError, match="ConfigurationSpace"):
        validate_space({"lr": (0.1, 1.0)})
    with pytest.raises(ValueError, match="no hyperparameters"):
        validate_space(ConfigurationSpace())
    only_constants = ConfigurationSpace()
    only_constants.add(Constant("act", "relu"))
    with pytest.raises(ValueError, match="only constants.*act"):
        UnitCubeEncoder(only_constants)
    with pytest.raises(ValueError, match=r"x must have shape \(2,\)"):
        UnitCubeEncoder(ConfigurationSpace({"a": (0.0, 1.0), "b": (0, 3)})).decode(np.zeros(3))
