"""The transformer actor-critic: shapes, attention, state tokens, target updates, noise, learning."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.trl_hpo.agent import (OUNoise, ReplayBuffer, TRLAgent, TRLConfig, run_trl_hpo, soft_update,
                                   with_token)
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv
from hpo_kit.trl_hpo.model import Actor, Critic, StateEncoder, TransformerConfig, slot_attention

torch.set_num_threads(1)


def random_states(batch: int, cfg: TransformerConfig, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n_filled = torch.randint(1, cfg.n_slots + 1, (batch,), generator=g)
    actions = torch.rand(batch, cfg.n_slots, 4, generator=g)
    perfs = torch.rand(batch, cfg.n_slots, cfg.perf_dim, generator=g)
    return actions, perfs, n_filled


@pytest.mark.parametrize("faithful", [False, True])
def test_shapes_ranges_and_attention_rows(faithful):
    cfg = TransformerConfig(shared_head_projections=faithful, original_positions=faithful)
    torch.manual_seed(0)
    actor, critic = Actor(cfg, StateEncoder(cfg)), Critic(cfg, StateEncoder(cfg))
    states = random_states(5, cfg)
    a, v = actor(*states), critic(*states)
    assert a.shape == (5, 4) and bool(((a > 0) & (a < 1)).all())
    assert v.shape == (5,) and bool(((v > -1) & (v < 1)).all())
    attention = critic.encoder.blocks[0].attn.last_attention
    assert attention.shape == (5, 4, 6, 6)
    torch.testing.assert_close(attention.sum(-1), torch.ones(5, 4, 6))
    for readout in ("fixed", "faithful"):
        weights = slot_attention(critic, *states, readout=readout)
        assert weights.shape == (5, 6) and np.allclose(weights.sum(1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="readout"):
        slot_attention(critic, *states, readout="heads")


def test_empty_slots_are_minus_one_tokens():
    cfg = TransformerConfig()
    encoder = StateEncoder(cfg)
    actions, perfs, _ = random_states(3, cfg)
    tokens = encoder(actions, perfs, torch.tensor([0, 2, 6]))
    assert bool((tokens[0] == -1).all())
    assert bool((tokens[1, 2:] == -1).all()) and bool((tokens[1, :2].abs() < 1).all())
    assert bool((tokens[2].abs() < 1).all())
    # Contents of empty slots do not matter.
    actions2 = actions.clone()
    actions2[1, 3:] = 0.123
    torch.testing.assert_close(encoder(actions2, perfs, torch.tensor([0, 2, 6])), tokens)


def test_with_token_writes_the_next_slot_and_keeps_gradients():
    actions, perfs = -torch.ones(2, 6, 4), -torch.ones(2, 6, 32)
    new_action = torch.full((2, 4), 0.5, requires_grad=True)
    a2, p2, n2 = with_token(actions, perfs, torch.tensor([0, 3]), new_action, torch.zeros(2, 32))
    assert n2.tolist() == [1, 4]
    assert bool((a2[0, 0] == 0.5).all()) and bool((a2[1, 3] == 0.5).all()) and bool((a2[1, :3] == -1).all())
    assert bool((p2[1, 3] == 0).all()) and bool((p2[1, 4] == -1).all())
    a2.sum().backward()
    assert new_action.grad is not None and bool((new_action.grad == 1).all())


def test_soft_update_math():
    source, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = copy.deepcopy(target)
    soft_update(target, source, tau=0.01)
    for t, b, s in zip(target.parameters(), before.parameters(), source.parameters()):
        torch.testing.assert_close(t, 0.99 * b + 0.01 * s)
    soft_update(target, source, tau=1.0)
    for t, s in zip(target.parameters(), source.parameters()):
        torch.testing.assert_close(t, s)


def test_ou_noise_is_seeded_and_mean_reverting():
    a = OUNoise(4, 0.15, 0.2, 0.0, np.random.default_rng(7))
    b = OUNoise(4, 0.15, 0.2, 0.0, np.random.default_rng(7))
    c = OUNoise(4, 0.15, 0.2, 0.0, np.random.default_rng(8))
    seq_a, seq_b, seq_c = ([n.sample() for _ in range(20)] for n in (a, b, c))
    np.testing.assert_array_equal(seq_a, seq_b)
    assert not np.allclose(seq_a, seq_c)
    assert not np.allclose(seq_a[0], seq_a[1])  # correlated, not constant
    quiet = OUNoise(2, 0.15, 0.0, 0.0, np.random.default_rng(0))
    quiet.x = np.array([1.0, -1.0])
    np.testing.assert_allclose(quiet.sample(), [0.85, -0.85])
    quiet.reset()
    np.testing.assert_array_equal(quiet.x, [0.0, 0.0])


def tiny_env(mode: str, **kw) -> LayerwiseCNNEnv:
    splits = synthetic_splits(32, 32, 8, seed=0)
    # gain/accuracy thresholds off so episodes run to max_layers; the compute cap keeps trainings tiny.
    config = EnvConfig(mode=mode, epochs=1, batch_size=32, n_perf=8, perf_batch_size=4, gain_threshold=-1.0,
                       accuracy_threshold=0.0, max_layers=3, max_macs=3_000_000)
    return LayerwiseCNNEnv(splits, config, seed=0, **kw)


def tiny_config(mode: str, **kw) -> TRLConfig:
    values = dict(mode=mode, total_episodes=2, episodes_per_iteration=2, updates_per_iteration=1,
                  learning_starts=1, batch_size=4, d_model=16, n_heads=2, d_ff=32, actor_lr=1e-3, critic_lr=1e-3)
    return TRLConfig(**{**values, **kw})


@pytest.mark.parametrize("mode", ["fixed", "faithful"])
def test_one_update_changes_actor_and_critic(mode):
    env = tiny_env(mode)
    cfg = tiny_config(mode)
    torch.manual_seed(0)
    agent = TRLAgent(cfg, n_slots=3, perf_dim=8)
    buffer = ReplayBuffer(10, 3, 8, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    while len(buffer) < 4:
        env.reset()
        while not env.done:
            step = env.step(rng.random(4))
            s = env.state()
            buffer.add(s.actions, s.perfs, s.n_filled, step.reward, step.done, env.layers)
    actor0, critic0 = copy.deepcopy(agent.actor.state_dict()), copy.deepcopy(agent.critic.state_dict())
    target0 = copy.deepcopy(agent.target_critic.state_dict())
    losses = agent.update(buffer.sample(4), env)
    assert np.isfinite(losses["critic_loss"])
    changed = lambda old, new, prefix: any(not torch.equal(old[k], new[k]) for k in old if k.startswith(prefix))
    assert changed(actor0, agent.actor.state_dict(), "encoder") and changed(actor0, agent.actor.state_dict(), "head")
    assert changed(critic0, agent.critic.state_dict(), "encoder")
    assert changed(target0, agent.target_critic.state_dict(), "head")  # soft update moved the target
    encoder_moved = changed(critic0, agent.critic.state_dict(), "state_encoder")
    assert encoder_moved == (mode == "fixed")  # faithful: the projection is never trained
    if mode == "faithful":
        assert agent.actor.state_encoder is agent.critic.state_encoder is agent.target_critic.state_encoder
    assert any(h["source"] == "lookahead" for h in env.history) or all(buffer.done[:len(buffer)])


def test_run_is_reproducible_and_learns(tmp_path):
    results = []
    for _ in range(2):
        env = tiny_env("fixed")
        result = run_trl_hpo(env, tiny_config("fixed", total_episodes=4), seed=5)
        results.append(([h["accuracy"] for h in env.history], [h["layers"] for h in env.history]))
        assert result.n_updates == 2 and len(result.agent.losses) == 2
        assert len(result.visited["reward"]) == sum(len(e) for e in env.episodes)
    assert results[0] == results[1]


def test_mode_mismatch_and_bad_config_are_rejected():
    with pytest.raises(ValueError, match="mode"):
        run_trl_hpo(tiny_env("fixed"), tiny_config("faithful"), seed=0)
    with pytest.raises(ValueError, match="tau"):
        TRLConfig(tau=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        TRLConfig(batch_size=0)


@pytest.mark.parametrize("mode", ["fixed", "faithful"])
def test_exploration_ends_in_fixed_mode_only(mode):
    env = tiny_env(mode)
    result = run_trl_hpo(env, tiny_config(mode, explore_fraction=0.0, updates_per_iteration=0), seed=1)
    first_actions = result.visited["actions"][result.visited["slot"] == 0][:, 0, :]
    empty = (torch.full((1, 3, 4), -1.0), torch.full((1, 3, 8), -1.0), torch.tensor([0]))
    result.agent.actor.eval()
    with torch.no_grad():
        greedy = result.agent.actor(*empty)[0].numpy()
    is_greedy = np.allclose(first_actions, greedy[None, :], atol=1e-6)
    assert is_greedy == (mode == "fixed")  # faithful: the original never stops adding noise


# ------------------------------------------------------------------------------ parameter rules (issue 22)
def test_parameter_rules_refuse_a_learning_starts_the_run_can_never_reach():
    from hpo_kit.params import profile_params
    from hpo_kit.trl_hpo.parameters import check

    values = profile_params("01_trl_hpo_mnist", "workshop")
    assert check(values) == []
    over_buffer = check({**values, "learning_starts": 30_000, "buffer_size": 20_000})
    assert any("learning_starts = 30,000 is above buffer_size = 20,000" in m for m in over_buffer)
    too_few_steps = check({**values, "learning_starts": 20_000, "max_episodes": 100, "max_layers": 6})
    assert any("max_episodes * max_layers" in m and "600" in m for m in too_few_steps)
    # without a TRL-HPO method the setting is unused
    assert check({**values, "methods": ["random"], "learning_starts": 30_000, "buffer_size": 20_000}) == []


def test_paper_profile_lets_the_critic_learn_within_the_episodes():
    """Issue 22: learning_starts = buffer_size = 20,000 with short episodes meant the critic was never updated.

    The paper profile's learning_starts must be reached even if every episode ended after one layer.
    """
    from hpo_kit.params import profile_params

    paper = profile_params("01_trl_hpo_mnist", "paper")
    assert paper["learning_starts"] <= paper["max_episodes"] * 1 <= paper["max_episodes"] * paper["max_layers"]
    assert paper["learning_starts"] <= paper["buffer_size"]
