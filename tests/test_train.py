"""Trainer, networks, augmentations and thread limits, on small synthetic data (no MNIST needed)."""
from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

from hpo_kit.train import (
    InvalidNetwork,
    TrainSettings,
    TrainState,
    batch_accuracies,
    build_network,
    check_network,
    count_parameters,
    cutout,
    evaluate_error,
    limit_torch_threads,
    mixup,
    mixup_loss,
    synthetic_splits,
    train,
)

torch.set_num_threads(1)

CNN = [
    {"type": "conv", "filters": 4, "kernel": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "pool", "kernel": 2},
    {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "activation": "tanh"},
    {"type": "dropout", "p": 0.1},
    {"type": "fc", "units": 16, "dropout": 0.2, "activation": "gelu"},
]
MLP = [{"type": "fc", "units": 32, "dropout": 0.1}]


@pytest.fixture(scope="module")
def splits():
    return synthetic_splits(n_train=300, n_val=100, n_test=60, seed=0, noise=3.0)


# --- networks ------------------------------------------------------------------------------------

def test_check_network_shapes():
    assert check_network(CNN) == [(4, 28, 28), (4, 28, 28), (4, 14, 14), (8, 6, 6), (8, 6, 6), (16,)]
    assert check_network(MLP) == [(32,)]
    assert check_network([]) == []
    assert check_network([{"type": "pool", "kernel": 3, "stride": 2, "padding": 1}], (3, 7, 9)) == [(3, 4, 5)]


@pytest.mark.parametrize("layers, input_shape", [
    (CNN, (1, 28, 28)),
    (MLP, (1, 28, 28)),
    ([{"type": "conv", "filters": 3, "kernel": 4, "padding": "same"}, {"type": "batchnorm"},
      {"type": "fc", "units": 5, "bias": False}, {"type": "batchnorm"}], (2, 9, 7)),
    *[([{"type": "pool", "kernel": k, "stride": s, "padding": p}], (1, 11, 8))
      for k in (1, 2, 3, 5) for s in (1, 2, 3) for p in range(k // 2 + 1)],
])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on a copy, not a problem
def test_predicted_shapes_match_torch(layers, input_shape):
    model = build_network(layers, input_shape=input_shape, n_classes=7)
    x = torch.zeros((2, *input_shape))
    shapes, layer_index = check_network(layers, input_shape), 0
    model.eval()
    h = x
    # Walk the Sequential; compare the shape after the module ending each described layer.
    ends = _module_ends(layers)
    for i, module in enumerate(model):
        h = module(h)
        if layer_index < len(ends) and i == ends[layer_index]:
            assert tuple(h.shape[1:]) == shapes[layer_index], (layer_index, layers[layer_index])
            layer_index += 1
    assert h.shape == (2, 7)


def _module_ends(layers):
    """Index of the last torch module built for each layer dict (mirrors networks._build)."""
    ends, i, flat = [], -1, False
    for layer in layers:
        kind = layer["type"]
        if kind == "conv":
            i += 2
        elif kind == "fc":
            i += (0 if flat else 1) + 2 + (1 if layer.get("dropout", 0) > 0 else 0)
            flat = True
        else:
            i += 1
        ends.append(i)
    return ends


@pytest.mark.parametrize("layers, input_shape, fragment", [
    ([{"type": "conv", "filters": 2, "kernel": 5}, {"type": "pool", "kernel": 3}, {"type": "pool", "kernel": 3},
      {"type": "pool", "kernel": 7, "padding": 2}], (1, 28, 28), "layer 3 (pool kernel 7"),
    ([{"type": "conv", "filters": 2, "kernel": 5}, {"type": "pool", "kernel": 3}, {"type": "pool", "kernel": 3},
      {"type": "pool", "kernel": 7, "padding": 2}], (1, 28, 28), "shrinks the 2x2 input to 0x0"),
    ([{"type": "pool", "kernel": 3, "padding": 2}], (1, 28, 28), "kernel // 2"),
    ([{"type": "fc", "units": 8}, {"type": "conv", "filters": 2, "kernel": 3}], (1, 28, 28), "after an fc layer"),
    ([{"type": "fc", "units": 8}, {"type": "pool", "kernel": 2}], (1, 28, 28), "layer 1 (pool)"),
    ([{"type": "dense", "units": 8}], (1, 28, 28), "unknown type 'dense'"),
    ([{"type": "fc", "units": 8, "activation": "swish"}], (1, 28, 28), "'leaky_relu'"),
    ([{"type": "conv", "filter": 8, "kernel": 3}], (1, 28, 28), "unknown keys ['filter']"),
    ([{"type": "conv", "kernel": 3}], (1, 28, 28), "missing required key 'filters'"),
    ([{"type": "conv", "filters": 2, "kernel": 3, "stride": 2, "padding": "same"}], (1, 28, 28), "needs stride 1"),
    ([{"type": "conv", "filters": 2, "kernel": 3, "padding": "valid"}], (1, 28, 28), "or 'same'"),
    ([{"type": "conv", "filters": 0, "kernel": 3}], (1, 28, 28), "filters must be an integer >= 1"),
    ([{"type": "fc", "units": 8, "dropout": 1.0}], (1, 28, 28), "dropout must be a number in [0, 1)"),
    ([{"type": "conv", "filters": 2, "kernel": 30}], (1, 28, 28), "shrinks the 28x28 input"),
    (["fc"], (1, 28, 28), "layer 0 must be a dict"),
])
def test_check_network_errors(layers, input_shape, fragment):
    with pytest.raises(InvalidNetwork) as err:
        check_network(layers, input_shape)
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)
    with pytest.raises(InvalidNetwork):
        build_network(layers, input_shape)


def test_build_network_seed_and_parameter_count():
    a, b, c = build_network(MLP, seed=3), build_network(MLP, seed=3), build_network(MLP, seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters()))
    assert count_parameters(a) == 784 * 32 + 32 + 32 * 10 + 10
    no_bias = build_network([{"type": "fc", "units": 32, "bias": False}])
    assert count_parameters(no_bias) == 784 * 32 + 32 * 10 + 10
    acts = [type(m) for m in build_network([{"type": "fc", "units": 4, "activation": act}
                                            for act in ("sigmoid", "leaky_relu", "elu", "none")])]
    assert acts.count(nn.Sigmoid) == acts.count(nn.LeakyReLU) == acts.count(nn.ELU) == acts.count(nn.Identity) == 1


# --- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("optimizer", "rmsprop"), ("lr", 0.0), ("lr", float("nan")), ("momentum", 1.0), ("batch_size", 0),
    ("batch_size", 3.5), ("lr_schedule", "linear"), ("max_epochs", 0), ("weight_decay", -1e-4),
    ("mixup_alpha", -0.1), ("cutout_length", -2), ("eval_batch_size", 0), ("lr_final_fraction", 0.0),
    ("lr_step_milestones", (0.5, 1.5)), ("lr_step_factor", 2.0), ("nesterov", "yes"), ("device", "tpu?"),
])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainSettings.{field} must be"):
        TrainSettings(**{field: value})


def test_nesterov_needs_momentum_and_unknown_fields():
    with pytest.raises(ValueError, match="TrainSettings.nesterov"):
        TrainSettings(optimizer="sgd", momentum=0.0, nesterov=True)
    with pytest.raises(ValueError, match=r"unknown TrainSettings fields \['learning_rate'\]"):
        TrainSettings.from_dict({"learning_rate": 0.1})
    settings = TrainSettings.from_dict({"lr": 0.1, "lr_step_milestones": [0.3]})
    assert settings.lr_step_milestones == (0.3,)


def test_lr_schedules():
    cos = TrainSettings(lr=1.0, lr_schedule="cosine", max_epochs=4)
    assert cos.lr_at(0) == 1.0 and cos.lr_at(2) == pytest.approx(0.5) and cos.lr_at(4) == pytest.approx(0.0)
    exp = TrainSettings(lr=1.0, lr_schedule="exponential", max_epochs=4, lr_final_fraction=0.01)
    assert exp.lr_at(2) == pytest.approx(0.1) and exp.lr_at(4) == pytest.approx(0.01)
    step = TrainSettings(lr=1.0, lr_schedule="step", max_epochs=4, lr_step_milestones=(0.5, 0.75), lr_step_factor=0.1)
    assert [step.lr_at(e) for e in (0, 1.9, 2, 3)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    assert TrainSettings(lr=0.3).lr_at(7) == 0.3


def test_train_argument_errors(splits):
    settings = TrainSettings(max_epochs=2)
    model = build_network(MLP)
    with pytest.raises(ValueError, match=r"epochs \(3\) must be <= settings.max_epochs \(2\)"):
        train(model, splits, settings, epochs=3, seed=0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        train(model, splits, settings, epochs=1, seed=-1)
    with pytest.raises(ValueError, match="time_budget_s"):
        train(model, splits, settings, epochs=1, seed=0, time_budget_s=0)
    with pytest.raises(TypeError, match="settings must be a TrainSettings"):
        train(model, splits, {"lr": 0.1}, epochs=1, seed=0)


# --- training ------------------------------------------------------------------------------------

def _run(splits, layers, settings, epochs, seed, state=None, **kwargs):
    return train(build_network(layers, seed=seed), splits, settings, epochs=epochs, seed=seed, state=state, **kwargs)


def test_training_learns_and_reports(splits):
    result = _run(splits, MLP, TrainSettings(batch_size=32, max_epochs=3), 3, seed=0)
    assert len(result.val_errors) == result.epochs_done == result.state.epochs_done == 3
    assert result.val_errors[-1] < 0.5  # chance is 0.9
    assert len(result.train_losses) == 3 and result.train_losses[-1] < result.train_losses[0]
    assert 0.0 <= result.test_error <= 1.0 and result.train_time_s > 0 and not result.stopped_by_budget


@pytest.mark.parametrize("layers, settings", [
    (MLP, TrainSettings(batch_size=32, max_epochs=3)),
    (CNN, TrainSettings(optimizer="sgd", lr=0.05, nesterov=True, weight_decay=1e-4, batch_size=50,
                        lr_schedule="cosine", max_epochs=3, mixup_alpha=0.4, cutout_length=8)),
])
def test_same_seed_same_result(splits, layers, settings):
    a = _run(splits, layers, settings, 2, seed=7)
    b = _run(splits, layers, settings, 2, seed=7)
    c = _run(splits, layers, settings, 2, seed=8)
    assert a.val_errors == b.val_errors and a.test_error == b.test_error
    assert all(torch.equal(x, y) for x, y in zip(a.model.parameters(), b.model.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.model.parameters(), c.model.parameters()))


@pytest.mark.parametrize("settings", [
    TrainSettings(optimizer="adam", batch_size=64, lr_schedule="exponential", max_epochs=4, mixup_alpha=0.2),
    TrainSettings(optimizer="sgd", lr=0.05, batch_size=40, lr_schedule="cosine", max_epochs=4, cutout_length=6),
    TrainSettings(optimizer="adamw", weight_decay=0.01, batch_size=64, lr_schedule="step", max_epochs=4),
])
def test_continuation_equals_uninterrupted(splits, settings, tmp_path):
    full = _run(splits, CNN, settings, 3, seed=11)
    first = _run(splits, CNN, settings, 1, seed=11)
    first.state.save(tmp_path / "state.pt")
    resumed = _run(splits, CNN, settings, 3, seed=11, state=TrainState.load(tmp_path / "state.pt"))
    assert resumed.val_errors == full.val_errors and resumed.train_losses == full.train_losses
    assert resumed.test_error == full.test_error
    assert resumed.epochs_done == 3 and len(resumed.val_errors) == 3
    for x, y in zip(resumed.model.state_dict().values(), full.model.state_dict().values()):
        assert torch.equal(x, y)
    # continuing in memory (no file) is just as exact, in two steps
    second = _run(splits, CNN, settings, 2, seed=11, state=first.state)
    third = _run(splits, CNN, settings, 3, seed=11, state=second.state)
    assert third.val_errors == full.val_errors


def test_state_is_a_snapshot(splits):
    first = _run(splits, MLP, TrainSettings(max_epochs=3), 1, seed=0)
    before = {k: v.clone() for k, v in first.state.model_state.items()}
    train(first.model, splits, TrainSettings(max_epochs=3), epochs=2, seed=0, state=first.state)
    assert all(torch.equal(before[k], v) for k, v in first.state.model_state.items())


def test_continuing_with_state_already_done(splits):
    first = _run(splits, MLP, TrainSettings(max_epochs=3), 2, seed=0)
    again = _run(splits, MLP, TrainSettings(max_epochs=3), 2, seed=0, state=first.state)
    assert again.val_errors == first.val_errors and again.test_error == first.test_error
    with pytest.raises(ValueError, match="state already has 2 epochs"):
        _run(splits, MLP, TrainSettings(max_epochs=3), 1, seed=0, state=first.state)


def test_time_budget_stops_after_the_epoch(splits):
    result = _run(splits, MLP, TrainSettings(max_epochs=5), 5, seed=0, time_budget_s=1e-9)
    assert result.stopped_by_budget and result.epochs_done == 1 and len(result.val_errors) == 1
    assert result.state.epochs_done == 1
    ample = _run(splits, MLP, TrainSettings(max_epochs=2), 2, seed=0, time_budget_s=3600)
    assert not ample.stopped_by_budget and ample.epochs_done == 2


def test_train_leaves_global_rng_alone(splits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _run(splits, MLP, TrainSettings(max_epochs=1), 1, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_state_save_load_round_trip(splits, tmp_path):
    result = _run(splits, MLP, TrainSettings(optimizer="sgd", lr=0.01, max_epochs=3), 2, seed=5)
    result.state.meta = {"config": {"lr": 0.01, "width": 32}}
    path = tmp_path / "sub" / "s.pt"
    result.state.save(path)
    loaded = TrainState.load(path)
    assert os.listdir(path.parent) == ["s.pt"]  # the temporary file was renamed, nothing left over
    assert loaded.epochs_done == 2 and loaded.val_errors == result.val_errors
    assert loaded.optimizer_name == "sgd" and loaded.seed == 5 and loaded.meta == result.state.meta
    assert TrainSettings.from_dict(loaded.settings) == TrainSettings(optimizer="sgd", lr=0.01, max_epochs=3)
    assert loaded.model_state.keys() == result.state.model_state.keys()
    assert all(torch.equal(loaded.model_state[k], v) for k, v in result.state.model_state.items())
    assert loaded.optimizer_state["param_groups"] == result.state.optimizer_state["param_groups"]


def test_changed_hyperparameters_apply_after_resume(splits):
    first = _run(splits, MLP, TrainSettings(optimizer="sgd", lr=0.01, weight_decay=0.0, max_epochs=3), 1, seed=0)
    model = build_network(MLP)
    new = TrainSettings(optimizer="sgd", lr=0.01, weight_decay=0.5, momentum=0.5, max_epochs=3)
    resumed = train(model, splits, new, epochs=2, seed=0, state=first.state)
    group = resumed.state.optimizer_state["param_groups"][0]
    assert group["weight_decay"] == 0.5 and group["momentum"] == 0.5


# --- evaluation ----------------------------------------------------------------------------------

class _ConstantModel(nn.Module):
    """Always predicts class ``k``."""

    def __init__(self, k: int, n_classes: int = 10):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n_classes))
        with torch.no_grad():
            self.bias[k] = 1.0

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1)


def test_evaluate_error_and_batch_accuracies():
    y = torch.tensor([3, 3, 1, 3, 0, 3, 3, 2, 3, 3])
    x = torch.zeros((10, 1, 2, 2))
    model = _ConstantModel(3)
    assert evaluate_error(model, x, y, batch_size=3) == pytest.approx(0.3)
    assert batch_accuracies(model, x, y, n_batches=2) == pytest.approx([0.6, 0.8])
    accs = batch_accuracies(model, x, y, n_batches=3, batch_size=4)  # parts of 4, 3, 3 images
    assert accs == pytest.approx([0.75, 2 / 3, 2 / 3])
    assert math.isnan(evaluate_error(model, x[:0], y[:0]))
    with pytest.raises(ValueError, match=r"n_batches must be an integer in \[1, 10\]"):
        batch_accuracies(model, x, y, n_batches=11)


# --- augmentations -------------------------------------------------------------------------------

def test_mixup_mixes_and_is_seeded():
    x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16)  # unique labels identify the images
    mixed, y_a, y_b, lam = mixup(x, y, 0.4, torch.Generator().manual_seed(1))
    again = mixup(x, y, 0.4, torch.Generator().manual_seed(1))
    assert mixed.shape == x.shape and 0.0 <= lam <= 1.0 and not torch.equal(mixed, x)
    assert torch.equal(again[0], mixed) and again[3] == lam
    assert torch.equal(y_a, y) and sorted(y_b.tolist()) == y.tolist()
    # each mixed image is lam * its own + (1 - lam) * its partner's, and y_b is the partner's label
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[y_b], atol=1e-6)
    logits = torch.randn(16, 16)
    ce = nn.functional.cross_entropy
    expected = lam * ce(logits, y_a) + (1 - lam) * ce(logits, y_b)
    assert float(mixup_loss(logits, y_a, y_b, lam)) == pytest.approx(float(expected))
    with pytest.raises(ValueError, match="alpha"):
        mixup(x, y, 0.0, torch.Generator())


def test_cutout_zeroes_squares_and_is_seeded():
    x = torch.ones(32, 2, 12, 12)
    out = cutout(x, 4, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and torch.equal(x, torch.ones_like(x))  # input untouched
    assert torch.equal(out, cutout(x, 4, torch.Generator().manual_seed(0)))
    zeros = (out == 0).all(dim=1)  # same square in every channel
    per_image = zeros.flatten(1).sum(1)
    assert ((out == 0).any(dim=1) == zeros).all()
    assert (per_image >= 4).all() and (per_image <= 16).all()  # a clipped square keeps >= 2x2 pixels
    assert (per_image == 16).any()
    for img in zeros:  # the zeros of each image form one axis-aligned rectangle
        rows, cols = img.any(1).nonzero().flatten(), img.any(0).nonzero().flatten()
        assert img[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    with pytest.raises(ValueError, match="cutout length"):
        cutout(x, 0, torch.Generator())


# --- threads -------------------------------------------------------------------------------------

def test_limit_torch_threads():
    limit_torch_threads(1)
    assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        limit_torch_threads(0)


def test_batchnorm_with_one_image_left_over_and_progress_bar():
    data = synthetic_splits(n_train=65, n_val=10, n_test=10, seed=1)  # 65 = 2 x 32 + 1
    layers = [{"type": "fc", "units": 8}, {"type": "batchnorm"}]
    result = train(build_network(layers, seed=0), data, TrainSettings(batch_size=32, max_epochs=1), 1, seed=0,
                   progress=True)
    assert result.epochs_done == 1
