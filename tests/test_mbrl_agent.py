"""Notebook 02's agent: tanh-Gaussian sampling, rescaling, PPO's pieces, SDP vs DOC, orders (hand values)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

from hpo_kit.mbrl_hpo.agent import (Agent, AgentConfig, DOCPolicy, SDPPolicy, advantages, clipped_surrogate,
                                    gaussian_log_prob, rescale, squash)
from hpo_kit.mbrl_hpo.searcher import XGB_ORDERS, MBRLSearcher, resolve_order


def space() -> ConfigurationSpace:
    s = ConfigurationSpace()
    s.add(Float("lr", (0.001, 0.1), log=True))
    s.add(Integer("depth", (1, 25)))
    s.add(Integer("width", (1, 100), log=True))
    s.add(Categorical("kind", ["a", "b", "c"]))
    s.add(Float("frac", (0.5, 1.0)))
    return s


def hp(name):
    return space()[name]


# ------------------------------------------------------------------------------ squashing and rescaling
def test_squash_hand_values():
    assert squash(0.0) == pytest.approx(0.5)
    assert squash(math.atanh(0.5)) == pytest.approx(0.75)
    assert squash(-math.atanh(0.5)) == pytest.approx(0.25)
    assert 0 <= squash(-20) < squash(0) < squash(20) <= 1  # float tanh saturates at +-1


@pytest.mark.parametrize("name, u, expected", [
    ("lr", 0.0, 0.001), ("lr", 0.5, 0.01), ("lr", 1.0, 0.1), ("lr", 0.25, 0.001 * 10 ** 0.5),  # log space
    ("depth", 0.0, 1), ("depth", 0.5, 13), ("depth", 1.0, 25),       # 25 equal bins
    ("depth", 0.039, 1), ("depth", 0.04, 2), ("depth", 0.999, 25),
    ("width", 0.5, 7),                                                 # sqrt(0.5 * 100.5) = 7.09 -> 7
    ("width", 0.0, 1), ("width", 1.0, 100),
    ("kind", 0.0, "a"), ("kind", 0.33, "a"), ("kind", 0.34, "b"), ("kind", 0.67, "c"), ("kind", 1.0, "c"),
    ("frac", 0.5, 0.75), ("frac", 0.2, 0.6),
])
def test_rescale_hand_values(name, u, expected):
    value = rescale(u, hp(name))
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected and type(value) is type(expected)


def test_rescale_matches_the_kits_unit_cube_decoding():
    from hpo_kit.spaces import UnitCubeEncoder

    s = space()
    enc = UnitCubeEncoder(s)
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.random(enc.dim)
        decoded = enc.decode(x)
        for i, name in enumerate(enc.names):
            mine = rescale(float(x[i]), s[name])
            assert mine == pytest.approx(decoded[name]) if isinstance(mine, float) else mine == decoded[name]


def test_sampling_is_a_gaussian_around_tanh_mu_then_squashed():
    agent = Agent(3, AgentConfig(), seed=0)
    mu, sigma = agent.distributions()
    assert torch.all(mu.abs() < 1) and torch.all(sigma >= AgentConfig().sigma_min)
    z, logp = agent.sample(5000)
    assert z.shape == (5000, 3) and logp.shape == (5000, 3)
    np.testing.assert_allclose(z.mean(0), mu.numpy(), atol=0.05)
    np.testing.assert_allclose(z.std(0), sigma.numpy(), rtol=0.05)
    hand = -0.5 * ((z - mu.numpy()) / sigma.numpy()) ** 2 - np.log(sigma.numpy()) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(logp, hand, rtol=1e-4, atol=1e-5)
    # one hand-worked draw: mu 0.2, sigma 0.5, eps 1 -> z 0.7 -> u = (tanh 0.7 + 1) / 2
    assert squash(0.2 + 0.5 * 1.0) == pytest.approx((math.tanh(0.7) + 1) / 2) == pytest.approx(0.80218, abs=1e-5)


def test_same_seed_same_samples_and_different_seed_different():
    a, b, c = Agent(4, seed=3), Agent(4, seed=3), Agent(4, seed=4)
    np.testing.assert_array_equal(a.sample(5)[0], b.sample(5)[0])
    assert not np.allclose(Agent(4, seed=3).sample(5)[0], c.sample(5)[0])


# ------------------------------------------------------------------------------ PPO on a tiny batch
def test_advantages_hand_values():
    np.testing.assert_allclose(advantages([1.0, 2.0, 3.0], normalize=False).numpy(), [-1, 0, 1])
    np.testing.assert_allclose(advantages([1.0, 2.0, 3.0]).numpy(), [-1.224745, 0, 1.224745], rtol=1e-5)
    np.testing.assert_allclose(advantages([0.9, 0.9]).numpy(), [0, 0])   # no spread: no signal, no division by 0
    np.testing.assert_allclose(advantages([0.5]).numpy(), [0])


def test_clipped_objective_hand_values_and_zero_gradient_when_clipped():
    adv = torch.tensor([-1.0, 0.0, 1.0])
    logp_old = torch.zeros(3, 1)
    logp_new = torch.log(torch.tensor([[1.5], [1.0], [0.5]]))
    # ep 0: min(1.5 * -1, 1.2 * -1) = -1.5; ep 1: 0; ep 2: min(0.5 * 1, 0.8 * 1) = 0.5 -> loss = -(-1 / 3)
    assert float(clipped_surrogate(logp_new, logp_old, adv, 0.2)) == pytest.approx(1 / 3)
    # ratio 1.5 with a positive advantage is clipped at 1.2: the objective is flat there (no gradient)
    x = torch.log(torch.tensor([[1.5]])).requires_grad_(True)
    loss = clipped_surrogate(x, torch.zeros(1, 1), torch.tensor([1.0]), 0.2)
    loss.backward()
    assert float(loss) == pytest.approx(-1.2) and float(x.grad) == 0.0
    # inside the clip range the gradient of -r A with respect to log r is -r A
    y = torch.log(torch.tensor([[1.1]])).requires_grad_(True)
    clipped_surrogate(y, torch.zeros(1, 1), torch.tensor([1.0]), 0.2).backward()
    assert float(y.grad) == pytest.approx(-1.1)
    # per-step log-probabilities: mean over episodes and steps
    two_steps = clipped_surrogate(torch.zeros(2, 2), torch.zeros(2, 2), torch.tensor([1.0, 3.0]), 0.2)
    assert float(two_steps) == pytest.approx(-2.0)


def test_ppo_update_moves_the_means_towards_rewarded_draws():
    agent = Agent(2, AgentConfig(ppo_epochs=4, learning_rate=0.01), seed=0)
    mu0, _ = agent.distributions()
    z, logp = agent.sample(16)
    rewards = z[:, 0]  # reward grows with step 0's draw
    agent.update(z, logp, rewards)
    mu1, _ = agent.distributions()
    assert float(mu1[0]) > float(mu0[0])
    assert float(gaussian_log_prob(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0))) == \
        pytest.approx(-0.5 * math.log(2 * math.pi))


# ------------------------------------------------------------------------------ SDP vs DOC, orders
def test_sdp_is_sequential_and_doc_is_one_step():
    sdp3, sdp5 = Agent(3, AgentConfig(variant="sdp"), seed=1), Agent(5, AgentConfig(variant="sdp"), seed=1)
    assert isinstance(sdp3.policy, SDPPolicy)
    # SDP's step t depends only on the steps before it: the first 3 of 5 equal the 3 of 3 (same weights)
    torch.testing.assert_close(sdp5.distributions()[0][:3], sdp3.distributions()[0])
    doc = Agent(3, AgentConfig(variant="doc"), seed=1)
    assert isinstance(doc.policy, DOCPolicy) and not any(isinstance(m, torch.nn.LSTMCell) for m in doc.policy.modules())
    assert doc.policy.inputs.shape == (3,)  # n standard-normal inputs, fixed per agent
    torch.testing.assert_close(doc.distributions()[0], doc.distributions()[0])
    # DOC emits all n at once: one linear head of 2n outputs
    assert doc.policy.net[-1].out_features == 6


def test_the_order_decides_which_step_sets_which_hyperparameter():
    s = space()
    forward = MBRLSearcher(s, 0, order=["lr", "depth", "width", "kind", "frac"])
    backward = MBRLSearcher(s, 0, order=["frac", "kind", "width", "depth", "lr"])
    z = np.array([2.0, -1.0, 0.0, 0.3, -2.0])
    a, b = forward.configuration(z), backward.configuration(z)
    assert a["lr"] == pytest.approx(rescale(squash(2.0), s["lr"]))
    assert b["lr"] == pytest.approx(rescale(squash(-2.0), s["lr"]))
    assert b["frac"] == pytest.approx(rescale(squash(2.0), s["frac"]))
    assert a != b
    assert resolve_order(s, "space_reversed") == resolve_order(s, "space")[::-1]


def test_named_xgboost_orders_are_permutations_and_refuse_other_spaces():
    names = sorted(XGB_ORDERS["listed"])
    assert all(sorted(o) == names for o in XGB_ORDERS.values())
    assert len({tuple(o) for o in XGB_ORDERS.values()}) == 3
    with pytest.raises(ValueError, match="order 'reversed'"):
        resolve_order(space(), "reversed")
    with pytest.raises(ValueError, match="order must list every"):
        resolve_order(space(), ["lr", "lr", "depth", "width", "kind"])
    with pytest.raises(ValueError, match="order must be one of"):
        resolve_order(space(), "sideways")


@pytest.mark.parametrize("field, value", [("variant", "rnn"), ("learning_rate", 0.0), ("batch_episodes", 0),
                                          ("clip", -0.1), ("lstm_units", 2.5)])
def test_bad_agent_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"AgentConfig.{field}"):
        AgentConfig(**{field: value})
