"""Shake-shake, ShakeDrop and the multi-branch ResNet built from them."""
from __future__ import annotations

import pytest
import torch

from hpo_kit.nas.resnet_shake import (
    ShakeResNet,
    ShakeResNetSpec,
    dirichlet_weights,
    shake_drop,
    shake_shake,
)

torch.set_num_threads(1)


def small_spec(**changes) -> ShakeResNetSpec:
    values = dict(blocks_per_stage=(1, 2, 1), initial_filters=4, widen_factors=(1.0, 2.0, 1.0),
                  branches_per_stage=(2, 3, 1), shakedrop_rate=0.5)
    return ShakeResNetSpec(**(values | changes))


# ----------------------------------------------------------------------------------- shake-shake
def test_shake_shake_forward_is_a_convex_combination_per_sample():
    torch.manual_seed(0)
    # branch i is the constant i+1 for every sample: the output of sample n is sum_i alpha_in (i + 1)
    branches = [torch.full((500, 1, 2, 2), float(i + 1)) for i in range(3)]
    out = shake_shake(branches, training=True)
    values = out[:, 0, 0, 0]
    assert torch.all(out == values.view(-1, 1, 1, 1))  # one weight vector per sample
    assert values.min() >= 1.0 and values.max() <= 3.0  # inside the convex hull of the branches
    assert values.std() > 0.2  # random per sample
    assert values.mean().item() == pytest.approx(2.0, abs=0.05)  # expectation: equal weights


def test_dirichlet_weights_are_on_the_simplex_with_mean_one_over_k():
    w = dirichlet_weights(4, 20_000, torch.zeros(1), torch.Generator().manual_seed(1))
    assert torch.all(w >= 0)
    torch.testing.assert_close(w.sum(dim=0), torch.ones(20_000))
    torch.testing.assert_close(w.mean(dim=1), torch.full((4,), 0.25), atol=0.01, rtol=0)
    # two branches: alpha ~ U(0, 1), as in Gastaldi's shake-shake (variance 1/12)
    w2 = dirichlet_weights(2, 20_000, torch.zeros(1), torch.Generator().manual_seed(2))
    assert w2[0].var().item() == pytest.approx(1 / 12, abs=0.005)


def test_shake_shake_backward_uses_independent_weights_that_sum_to_one():
    g = torch.Generator().manual_seed(1)
    branches = [torch.randn(64, 2, 3, 3, generator=g, requires_grad=True) for _ in range(3)]
    torch.manual_seed(7)
    shake_shake(branches, training=True).sum().backward()
    betas = torch.stack([b.grad[:, 0, 0, 0] for b in branches])  # grad_output = 1, so grad = beta_i
    assert torch.all(betas >= 0)
    torch.testing.assert_close(betas.sum(dim=0), torch.ones(64))
    assert torch.all(torch.stack([b.grad for b in branches]) == betas.view(3, 64, 1, 1, 1))  # per sample
    # Same random draws, but probing the forward weights: branch i = indicator of i.
    torch.manual_seed(7)
    probes = [torch.full((64, 1, 1, 1), 1.0 if j == 0 else 0.0) for j in range(3)]
    alpha_0 = shake_shake(probes, training=True)[:, 0, 0, 0]
    assert not torch.allclose(alpha_0, betas[0])  # backward weights are drawn independently


def test_shake_shake_at_evaluation_and_with_one_branch_is_deterministic():
    branches = [torch.randn(5, 2, 3, 3) for _ in range(4)]
    torch.testing.assert_close(shake_shake(branches, training=False), torch.stack(branches).mean(0))
    assert shake_shake(branches[:1], training=True) is branches[0]
    torch.testing.assert_close(shake_shake(branches, training=True, forward_shake=False, backward_shake=False),
                               torch.stack(branches).mean(0))


# ------------------------------------------------------------------------------------- ShakeDrop
def test_shakedrop_always_dropped_scales_forward_by_alpha_and_backward_by_beta():
    torch.manual_seed(2)
    x = torch.ones(2000, 1, 1, 1, requires_grad=True)
    y = shake_drop(x, drop_rate=1.0, training=True)
    alpha = y.detach().view(-1)
    assert alpha.min() >= -1 and alpha.max() <= 1 and alpha.min() < -0.9 and alpha.max() > 0.9
    assert alpha.mean().abs() < 0.05  # E[alpha] = 0
    y.sum().backward()
    beta = x.grad.view(-1)
    assert beta.min() >= 0 and beta.max() <= 1 and beta.mean().item() == pytest.approx(0.5, abs=0.05)
    assert not torch.allclose(beta, alpha.abs())  # independent of the forward coefficient


def test_shakedrop_never_dropped_is_the_identity_and_eval_uses_the_expectation():
    x = torch.randn(8, 3, 4, 4, requires_grad=True)
    assert shake_drop(x, 0.0, training=True) is x
    torch.testing.assert_close(shake_drop(x, 0.3, training=False), x * 0.7)


def test_shakedrop_forward_coefficient_has_expectation_one_minus_p():
    g = torch.Generator().manual_seed(3)
    x = torch.ones(4, 1, 1, 1)
    coefficients = torch.cat([shake_drop(x, 0.4, training=True, generator=g).view(-1) for _ in range(4000)])
    assert coefficients.mean().item() == pytest.approx(0.6, abs=0.03)
    # the gate is per mini-batch: within a call, either all samples pass unchanged or none
    kept = torch.stack([torch.all(shake_drop(x, 0.4, True, g) == 1) for _ in range(1000)]).float().mean()
    assert kept.item() == pytest.approx(0.6, abs=0.05)


# ------------------------------------------------------------------------------------- network
@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32)])
def test_network_forward_backward_for_mnist_and_cifar_shapes(shape):
    torch.manual_seed(0)
    model = ShakeResNet(small_spec(in_channels=shape[1]))
    x = torch.randn(*shape)
    logits = model(x)
    assert logits.shape == (2, 10)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))  # evaluation is deterministic


def test_widths_compound_and_respect_multiplier_cap_and_floor():
    spec = small_spec(initial_filters=16, widen_factors=(2.0, 1.5, 0.5))
    assert spec.stage_widths() == (32, 48, 24)
    assert small_spec(initial_filters=16, widen_factors=(2.0, 1.5, 0.5), width_multiplier=0.25).stage_widths() == (8, 12, 6)
    assert small_spec(initial_filters=16, widen_factors=(2.0, 1.5, 0.5), max_channels=40).stage_widths() == (32, 40, 24)
    assert small_spec(initial_filters=8, widen_factors=(0.5, 0.5, 0.5)).stage_widths() == (4, 2, 2)
    model = ShakeResNet(small_spec(initial_filters=16, widen_factors=(2.0, 1.5, 0.5)))
    assert model.classifier.in_features == 24
    convs = [m for m in model.stages[1].modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert {c.out_channels for c in convs} == {48}
    # 2 blocks x 3 branches x 2 convolutions in stage 2
    assert len(convs) == 12


def test_shakedrop_rate_grows_linearly_with_depth():
    spec = small_spec(shakedrop_rate=0.8)  # 4 blocks in total
    assert spec.shakedrop_rates() == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert small_spec(shakedrop_rate=0.8, shakedrop_schedule="constant").shakedrop_rates() == pytest.approx([0.8] * 4)
    # the authors' code applies ShakeDrop only where a block has a single branch (stage 3 here)
    assert small_spec(shakedrop_rate=0.8, shakedrop_where="single_branch").shakedrop_rates() == pytest.approx(
        [0, 0, 0, 0.8])
    blocks = [m for m in ShakeResNet(spec).modules() if hasattr(m, "drop_rate")]
    assert [b.drop_rate for b in blocks] == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_training_randomness_follows_the_seed_or_the_generator():
    x = torch.randn(4, 1, 28, 28)
    torch.manual_seed(0)
    model = ShakeResNet(small_spec())
    outputs = []
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        outputs.append(model(x).detach())
    torch.testing.assert_close(outputs[0], outputs[1])
    assert not torch.allclose(outputs[0], outputs[2])
    model.generator = torch.Generator().manual_seed(9)
    a = model(x).detach()
    model.generator = torch.Generator().manual_seed(9)
    torch.manual_seed(123)  # the global RNG no longer matters
    torch.testing.assert_close(model(x).detach(), a)


def test_more_branches_mean_more_parameters():
    count = lambda spec: sum(p.numel() for p in ShakeResNet(spec).parameters())  # noqa: E731
    assert count(small_spec(branches_per_stage=(1, 1, 1))) < count(small_spec(branches_per_stage=(2, 1, 1)))
    assert ShakeResNet(small_spec()).depth() == 2 + 2 * 4


@pytest.mark.parametrize("changes, match", [
    ({"blocks_per_stage": (1, 0, 1)}, "blocks_per_stage"),
    ({"blocks_per_stage": (1, 1)}, "blocks_per_stage"),
    ({"branches_per_stage": (1, 2.5, 1)}, "branches_per_stage"),
    ({"widen_factors": (1.0, -1.0, 1.0)}, "widen_factors"),
    ({"initial_filters": 0}, "initial_filters"),
    ({"shakedrop_rate": 1.5}, "shakedrop_rate"),
    ({"n_classes": 1}, "n_classes"),
    ({"width_multiplier": 0}, "width_multiplier"),
    ({"max_channels": 1}, "max_channels"),
    ({"shakedrop_where": "some"}, "shakedrop_where"),
    ({"shakedrop_schedule": "cosine"}, "shakedrop_schedule"),
])
def test_invalid_specs_are_rejected_with_the_field_name(changes, match):
    with pytest.raises(ValueError, match=match):
        small_spec(**changes)


def test_wrong_input_channels_and_generator_types_are_rejected():
    model = ShakeResNet(small_spec(in_channels=3))
    with pytest.raises(ValueError, match="3 x H x W"):
        model(torch.randn(2, 1, 28, 28))
    with pytest.raises(TypeError, match="generator"):
        ShakeResNet(small_spec(), generator=5)
