"""TRL-HPO's deterministic actor-critic and its training loop (read top to bottom, like CleanRL).

The critic scores *afterstates*: the state after a layer was added, whose newest token already
holds that layer's action and performance vector. So the critic of ``s_{t+1}`` plays the role of
``Q(s_t, a_t)``, and learning follows DDPG with target networks and no discount::

    a'   = target_actor(s_{t+1})                       # next layer the target policy would add
    s''  = s_{t+1} + token(a', perf(prefix + a'))      # needs that prefix trained (cached)
    y    = r_t + (1 - done_t) * target_critic(s'')
    critic loss = (critic(s_{t+1}) - y)^2
    actor loss  = -critic(s_{t+1} + token(actor(s_{t+1}), perf(prefix + a')))

The actor's gradient reaches the action through the critic's state projection ``W_a``; the
performance vector cannot be differentiated, so (as in the original) the one trained for ``a'`` is
used. Exploration adds Ornstein-Uhlenbeck noise, clipped to [0, 1], during the first
``explore_fraction`` of the run; afterwards the actor acts greedily (in faithful mode exploration
never ends, as in the original).

``mode="faithful"`` reproduces the original's behaviour-changing quirks (table in ``QUIRKS``);
``mode="fixed"`` (default) repairs them.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hpo_kit.trl_hpo.actions import check_mode, decode_action
from hpo_kit.trl_hpo.environment import LayerwiseCNNEnv
from hpo_kit.trl_hpo.model import Actor, Critic, StateEncoder, TransformerConfig

#: What faithful mode reproduces, and what fixed mode does instead: (topic, faithful, fixed).
QUIRKS: list[tuple[str, str, str]] = [
    ("state projection W_a, W_p", "random, frozen; shared by all four networks",
     "learned: actor and critic each own one, trained with their losses"),
    ("choice index from a in [0, 1]", "int(a*(n-1)): last choice only at exactly 1.0; pool int(a*n)-1: "
     "every a < 1/n wraps to the last choice (a = 0.05: kernel 7, stride 3, padding 3)",
     "min(floor(a*n), n-1): equal share for every choice"),
    ("conv filters", "strictly more than the incoming channels (the first conv never has 8)",
     "any of 8..120"),
    ("fc units after fc", "at most the previous layer's units (one step more at a = 1.0)", "any of 16..504"),
    ("activation after conv", "none (convolutions are linear)", "ReLU"),
    ("performance vector", "32 validation batches of 16 images (512 images)",
     "the whole validation split in 32 equal batches"),
    ("exploring policy", "target actor (dropout active) + OU noise", "actor in eval mode + OU noise"),
    ("end of exploration", "never: the episode number compared with the 80 % mark is the position (0-9) "
     "within a round of 10 episodes", "after explore_fraction of the run (episodes or time); then greedy"),
    ("networks while learning", "target actor/critic in training mode (dropout in the targets)",
     "targets in eval mode"),
    ("lookahead prefix training", "Adam lr 1e-4 (the environment trains at 1e-3)",
     "the environment's settings (so results are shared with the cache)"),
    ("invalid lookahead layer", "token with a zero performance vector, valued by the target critic",
     "valued at the invalid reward (-1), as the environment would"),
    ("attention heads", "one 16x16 Q/K/V matrix shared by the 4 heads", "full 64x64 projections"),
    ("positional encoding", "exponents 2i/d (sine) and 2(i+1)/d (cosine)", "exponent i/d for both"),
    ("attention read-out", "softmax over slots of the attention *output*, mean over channels",
     "attention probabilities, mean over heads and queries"),
]


@dataclass(frozen=True)
class TRLConfig:
    """Every hyperparameter of TRL-HPO (defaults: the original code's values)."""

    mode: str = "fixed"  # "fixed" repairs the original's quirks, "faithful" reproduces them (see QUIRKS)
    total_episodes: int = 5000  # episodes at most (original: 500 iterations x 10 episodes)
    episodes_per_iteration: int = 10  # episodes collected between two rounds of updates
    updates_per_iteration: int = 5  # gradient updates after each round of episodes
    explore_fraction: float = 0.8  # share of the run (episodes or time, whichever is further) with noise
    buffer_size: int = 20000  # replay buffer capacity in transitions
    learning_starts: int = 20000  # transitions needed before the first update (original: a full buffer)
    batch_size: int = 16  # transitions per update
    actor_lr: float = 1e-5  # Adam learning rate of the actor
    critic_lr: float = 1e-4  # Adam learning rate of the critic
    tau: float = 0.01  # soft target update: target <- (1 - tau) target + tau online
    gamma: float = 1.0  # discount (none: the return is the accuracy of the final prefix)
    ou_theta: float = 0.15  # Ornstein-Uhlenbeck mean reversion per step
    ou_sigma: float = 0.2  # Ornstein-Uhlenbeck noise scale per step
    ou_mu: float = 0.0  # Ornstein-Uhlenbeck long-run mean
    d_model: int = 64  # transformer token width
    n_heads: int = 4  # attention heads
    n_blocks: int = 2  # transformer blocks in actor and critic
    d_ff: int = 256  # feed-forward width inside a block
    dropout: float = 0.2  # dropout inside the blocks
    faithful_lookahead_lr: float = 1e-4  # faithful mode: lr of the lookahead prefix training

    def __post_init__(self) -> None:
        check_mode(self.mode)
        for name in ("total_episodes", "episodes_per_iteration", "buffer_size", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TRLConfig.{name} must be an integer >= 1, got {value!r}")
        for name in ("updates_per_iteration", "learning_starts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"TRLConfig.{name} must be an integer >= 0, got {value!r}")
        for name in ("explore_fraction", "tau", "gamma"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"TRLConfig.{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not (self.actor_lr > 0 and self.critic_lr > 0):
            raise ValueError(f"actor_lr and critic_lr must be > 0, got {self.actor_lr}, {self.critic_lr}")

    @property
    def faithful(self) -> bool:
        return self.mode == "faithful"

    def transformer(self, n_slots: int, perf_dim: int) -> TransformerConfig:
        return TransformerConfig(n_slots=n_slots, perf_dim=perf_dim, d_model=self.d_model, n_heads=self.n_heads,
                                 n_blocks=self.n_blocks, d_ff=self.d_ff, dropout=self.dropout,
                                 shared_head_projections=self.faithful, original_positions=self.faithful)


# ---------------------------------------------------------------------------- exploration noise
class OUNoise:
    """Ornstein-Uhlenbeck process x <- x + theta (mu - x) + sigma N(0, 1), from a seeded generator."""

    def __init__(self, size: int, theta: float, sigma: float, mu: float, rng: np.random.Generator):
        self.size, self.theta, self.sigma, self.mu, self.rng = size, theta, sigma, mu, rng
        self.reset()

    def reset(self) -> None:
        self.x = np.full(self.size, self.mu, dtype=np.float64)

    def sample(self) -> np.ndarray:
        self.x = self.x + self.theta * (self.mu - self.x) + self.sigma * self.rng.standard_normal(self.size)
        return self.x.copy()


# ---------------------------------------------------------------------------- replay buffer
class ReplayBuffer:
    """Afterstates with their reward, end flag and the layers built so far (for lookahead training)."""

    def __init__(self, capacity: int, n_slots: int, perf_dim: int, rng: np.random.Generator):
        self.capacity, self.rng = capacity, rng
        self.actions = np.zeros((capacity, n_slots, 4), dtype=np.float32)
        self.perfs = np.zeros((capacity, n_slots, perf_dim), dtype=np.float32)
        self.n_filled = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=bool)
        self.layers: list[list[dict[str, Any]]] = [[] for _ in range(capacity)]
        self.size, self.position = 0, 0

    def __len__(self) -> int:
        return self.size

    def add(self, actions: np.ndarray, perfs: np.ndarray, n_filled: int, reward: float, done: bool,
            layers: list[dict[str, Any]]) -> None:
        i = self.position
        self.actions[i], self.perfs[i], self.n_filled[i] = actions, perfs, n_filled
        self.reward[i], self.done[i], self.layers[i] = reward, done, [dict(layer) for layer in layers]
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> dict[str, Any]:
        idx = self.rng.choice(self.size, size=min(batch_size, self.size), replace=False)
        return {"actions": torch.from_numpy(self.actions[idx]), "perfs": torch.from_numpy(self.perfs[idx]),
                "n_filled": torch.from_numpy(self.n_filled[idx]), "reward": torch.from_numpy(self.reward[idx]),
                "done": torch.from_numpy(self.done[idx]), "layers": [self.layers[i] for i in idx]}


def soft_update(target: torch.nn.Module, source: torch.nn.Module, tau: float) -> None:
    """target <- (1 - tau) target + tau source, for every trainable parameter."""
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            if s.requires_grad and t is not s:
                t.mul_(1.0 - tau).add_(s, alpha=tau)


def with_token(actions: torch.Tensor, perfs: torch.Tensor, n_filled: torch.Tensor, new_action: torch.Tensor,
               new_perf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """States with ``(new_action, new_perf)`` written into slot ``n_filled`` (differentiable in new_action)."""
    slot = F.one_hot(n_filled, actions.shape[1]).to(actions.dtype)[..., None]  # B x T x 1
    actions = actions * (1 - slot) + new_action[:, None, :] * slot
    perfs = perfs * (1 - slot) + new_perf[:, None, :] * slot
    return actions, perfs, n_filled + 1


# ---------------------------------------------------------------------------- the agent
class TRLAgent:
    """Actor, critic, their targets and optimizers; ``act`` and ``update``."""

    def __init__(self, cfg: TRLConfig, n_slots: int, perf_dim: int):
        self.cfg = cfg
        tcfg = cfg.transformer(n_slots, perf_dim)
        if cfg.faithful:
            # One random projection, never trained, used by all four networks.
            shared = StateEncoder(tcfg).requires_grad_(False)
            self.actor, self.critic = Actor(tcfg, shared), Critic(tcfg, shared)
        else:
            self.actor, self.critic = Actor(tcfg, StateEncoder(tcfg)), Critic(tcfg, StateEncoder(tcfg))
        self.target_actor = copy.deepcopy(self.actor)
        self.target_critic = copy.deepcopy(self.critic)
        if cfg.faithful:  # deepcopy duplicated the shared encoder: share it again
            self.target_actor.state_encoder = self.actor.state_encoder
            self.target_critic.state_encoder = self.actor.state_encoder
        self.actor_optimizer = torch.optim.Adam([p for p in self.actor.parameters() if p.requires_grad],
                                                lr=cfg.actor_lr)
        self.critic_optimizer = torch.optim.Adam([p for p in self.critic.parameters() if p.requires_grad],
                                                 lr=cfg.critic_lr)
        self.losses: list[dict[str, float]] = []

    def act(self, actions: np.ndarray, perfs: np.ndarray, n_filled: int, noise: np.ndarray | None) -> np.ndarray:
        """Action for one state; ``noise`` (or None for a greedy action) is added and the sum clipped."""
        explore = noise is not None
        policy = self.target_actor if (explore and self.cfg.faithful) else self.actor
        policy.train(self.cfg.faithful)  # the original never leaves training mode (dropout stays on)
        with torch.no_grad():
            a = policy(torch.from_numpy(actions)[None], torch.from_numpy(perfs)[None],
                       torch.tensor([n_filled]))[0].numpy().astype(np.float64)
        if explore:
            a = a + noise
        return np.clip(a, 0.0, 1.0)

    def update(self, batch: dict[str, Any], env: LayerwiseCNNEnv) -> dict[str, float] | None:
        """One critic step and one actor step on a sampled batch (trains lookahead prefixes as needed).

        Returns the two losses, or None if the time budget ran out before the update could be made.
        """
        cfg = self.cfg
        actions, perfs, n_filled = batch["actions"], batch["perfs"], batch["n_filled"]
        reward, done = batch["reward"], batch["done"]
        for net in (self.actor, self.critic):
            net.train()
        for net in (self.target_actor, self.target_critic):
            net.train(cfg.faithful)

        # Lookahead: the layer the target actor would add next, and that prefix's performance.
        live = ~done
        with torch.no_grad():
            next_action = self.target_actor(actions, perfs, n_filled)
        next_perf = torch.zeros(perfs.shape[0], perfs.shape[2])
        next_invalid = torch.zeros(perfs.shape[0], dtype=torch.bool)
        lookahead_lr = cfg.faithful_lookahead_lr if cfg.faithful else None
        for i in torch.nonzero(live).flatten().tolist():
            if env.out_of_time:
                return None  # the budget ran out while training lookahead prefixes: skip this update
            layers = batch["layers"][i]
            layer = decode_action(next_action[i].double().numpy(), layers, env.config.mode)
            if env.is_valid(layers + [layer]):
                next_perf[i] = torch.from_numpy(env.evaluate(layers + [layer], lr=lookahead_lr,
                                                             source="lookahead").perf)
            else:
                next_invalid[i] = True
                if not cfg.faithful:  # the token the environment itself would store
                    next_perf[i] = perfs[i, n_filled[i] - 1]

        # Critic: regress critic(s_{t+1}) on r_t + target_critic(s'').
        with torch.no_grad():
            next_value = self.target_critic(*with_token(actions, perfs, n_filled.clamp(max=actions.shape[1] - 1),
                                                        next_action, next_perf))
            if not cfg.faithful:
                next_value = torch.where(next_invalid, torch.full_like(next_value, env.config.invalid_reward),
                                         next_value)
            target = reward + cfg.gamma * live.float() * next_value
        value = self.critic(actions, perfs, n_filled)
        critic_loss = F.mse_loss(value, target)
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self.critic_optimizer.step()

        # Actor: raise the critic's value of the afterstate its own action would create.
        actor_loss = torch.tensor(float("nan"))
        if live.any():
            proposal = self.actor(actions[live], perfs[live], n_filled[live])
            value_after = self.critic(*with_token(actions[live], perfs[live], n_filled[live], proposal,
                                                  next_perf[live]))
            actor_loss = -value_after.mean()
            self.actor_optimizer.zero_grad()
            actor_loss.backward()
            self.actor_optimizer.step()

        soft_update(self.target_actor, self.actor, cfg.tau)
        soft_update(self.target_critic, self.critic, cfg.tau)
        record = {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.detach().item()}
        self.losses.append(record)
        return record


# ---------------------------------------------------------------------------- the training loop
@dataclass
class TRLResult:
    """What a TRL-HPO run leaves behind."""

    env: LayerwiseCNNEnv  # history (best-vs-time), episodes (layer pairs) and cache
    agent: TRLAgent  # trained networks (the critic is used for the attention analysis)
    visited: dict[str, np.ndarray] = field(default_factory=dict)  # every afterstate seen, for transparency
    n_updates: int = 0


def run_trl_hpo(env: LayerwiseCNNEnv, cfg: TRLConfig, seed: int, progress: Any = None) -> TRLResult:
    """Search with TRL-HPO until ``cfg.total_episodes`` episodes or the environment's time budget.

    ``progress``: an optional tqdm-like bar, advanced once per episode. Global RNG state is left
    untouched (dropout and initial weights draw from a forked, seeded torch RNG).
    """
    if cfg.mode != env.config.mode:
        raise ValueError(f"TRLConfig.mode ({cfg.mode!r}) and the environment's mode ({env.config.mode!r}) differ")
    n_slots, perf_dim = env.config.max_layers, env.config.n_perf
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        agent = TRLAgent(cfg, n_slots, perf_dim)
        buffer = ReplayBuffer(cfg.buffer_size, n_slots, perf_dim, rng)
        noise = OUNoise(4, cfg.ou_theta, cfg.ou_sigma, cfg.ou_mu, rng)
        visited: dict[str, list[Any]] = {k: [] for k in ("actions", "perfs", "n_filled", "slot", "reward", "valid",
                                                           "episode")}
        episode, n_updates = 0, 0
        env.clock.start()
        while episode < cfg.total_episodes and not env.out_of_time:
            # 1. Collect a round of episodes with the current policy.
            for _ in range(cfg.episodes_per_iteration):
                if episode >= cfg.total_episodes or env.out_of_time:
                    break
                run_fraction = max(episode / cfg.total_episodes, env.clock.fraction())
                explore = cfg.faithful or run_fraction < cfg.explore_fraction
                state = env.reset()
                # Fresh noise per episode (the original's worker processes each start from a copy
                # of the initial noise state, which amounts to the same).
                noise.reset()
                while not env.done and not env.out_of_time:
                    action = agent.act(state.actions, state.perfs, state.n_filled,
                                       noise.sample() if explore else None)
                    step = env.step(action)
                    state = env.state()
                    buffer.add(state.actions, state.perfs, state.n_filled, step.reward, step.done, env.layers)
                    for key, value in (("actions", state.actions), ("perfs", state.perfs),
                                       ("n_filled", state.n_filled), ("slot", step.slot), ("reward", step.reward),
                                       ("valid", step.valid), ("episode", len(env.episodes) - 1)):
                        visited[key].append(value)
                episode += 1
                if progress is not None:
                    progress.update(1)
            # 2. Learn from replayed afterstates.
            if len(buffer) >= max(cfg.learning_starts, 1):
                for _ in range(cfg.updates_per_iteration):
                    if env.out_of_time:
                        break
                    if agent.update(buffer.sample(cfg.batch_size), env) is not None:
                        n_updates += 1
    env.clock.stop()
    arrays = {k: np.asarray(v) for k, v in visited.items()}
    return TRLResult(env=env, agent=agent, visited=arrays, n_updates=n_updates)


def config_from_dict(values: dict[str, Any]) -> TRLConfig:
    """A TRLConfig from a dict, rejecting unknown keys with the allowed names."""
    allowed = {f.name for f in dataclasses.fields(TRLConfig)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"unknown TRLConfig fields {unknown}; allowed: {sorted(allowed)}")
    return TRLConfig(**values)
