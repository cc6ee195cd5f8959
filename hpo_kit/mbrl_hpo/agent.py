"""The RL agents of Wu, Chen & Liu (2020), read top to bottom like a CleanRL file.

HPO as a sequential decision problem: one episode chooses one configuration, one hyperparameter per
step, in a given *order*. The reward is 0 until the last step, then the configuration's score
(the searcher passes ``-validation loss``, i.e. accuracy - 1 for an error loss); gamma = 1, so every
step of an episode has the same return.

RL-SDP (sequential decision policy)::

    state_0 = (0, 1)
    for t in 0..n-1:
        h_t       = LSTM(Linear(2 -> 2)(state_t), h_{t-1})        # 3 layers x 35 units
        raw       = Linear(35 -> 2)(h_t)
        mu_t      = tanh(raw[0]);  sigma_t = softplus(raw[1]) + sigma_min
        state_t+1 = (mu_t, sigma_t)                               # the paper: the previous step's (mu, sigma)
        z_t ~ N(mu_t, sigma_t);  a_t = tanh(z_t) in (-1, 1);  u_t = (a_t + 1) / 2 in (0, 1)
        value of hyperparameter order[t] = rescale(u_t)

RL-DOC (one-step ablation): an MLP maps n standard-normal inputs (drawn once per agent from its
seed) to all n (mu, sigma) pairs at once.

Because the state is the previous step's *distribution* (not the sampled value), the n
distributions do not depend on what was sampled: one forward pass gives them for every episode of
a batch. PPO then works on the pre-squash values z (tanh is a fixed bijection, so its Jacobian
cancels in the probability ratio)::

    A_i      = R_i - mean(R)  [/ std(R)]                           # batch-mean baseline, no critic
    ratio_it = exp(log N(z_it; mu_t, sigma_t) - logp_old_it)
    loss     = -mean_it min(ratio_it A_i, clip(ratio_it, 1-eps, 1+eps) A_i) - c_ent * mean_t H_t

Every choice the paper leaves open is a named field of :class:`AgentConfig` and a row of
:data:`hpo_kit.mbrl_hpo.quirks.QUIRKS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

VARIANTS = ("sdp", "doc")


@dataclass(frozen=True)
class AgentConfig:
    """Every hyperparameter of the agent and its PPO (paper's values where it gives them)."""

    variant: str = "sdp"            # "sdp": LSTM over the n steps (RL-SDP); "doc": one-step MLP (RL-DOC)
    learning_rate: float = 0.007    # Adam learning rate (paper: 0.007)
    embed_size: int = 2             # input embedding nodes (paper: 2)
    lstm_layers: int = 3            # LSTM layers (paper: 3); DOC: hidden layers of the MLP
    lstm_units: int = 35            # LSTM units per layer (paper: 35); DOC: units per hidden layer
    sigma_min: float = 0.05         # floor added to softplus(sigma): exploration never collapses to 0
    batch_episodes: int = 8         # episodes (real evaluations) per PPO update
    ppo_epochs: int = 4             # gradient steps on each batch (the whole batch, no minibatches)
    clip: float = 0.2               # PPO ratio clip epsilon
    entropy_coef: float = 0.0       # weight of the Gaussians' entropy bonus
    normalize_advantage: bool = True  # divide advantages by the batch's standard deviation
    max_grad_norm: float = 1.0      # gradient norm clip per step

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"AgentConfig.variant must be one of {list(VARIANTS)}, got {self.variant!r}")
        for name in ("embed_size", "lstm_layers", "lstm_units", "batch_episodes", "ppo_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"AgentConfig.{name} must be an integer >= 1, got {value!r}")
        for name in ("learning_rate", "sigma_min", "clip", "max_grad_norm"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"AgentConfig.{name} must be a number > 0, got {value!r}")
        if not (isinstance(self.entropy_coef, (int, float)) and self.entropy_coef >= 0):
            raise ValueError(f"AgentConfig.entropy_coef must be a number >= 0, got {self.entropy_coef!r}")


# ---------------------------------------------------------------------------- squashing and rescaling
def squash(z: np.ndarray | float) -> np.ndarray:
    """Pre-squash Gaussian draw z -> u = (tanh(z) + 1) / 2 in (0, 1)."""
    return (np.tanh(np.asarray(z, dtype=float)) + 1.0) / 2.0


def searchable(space: ConfigurationSpace) -> list[Any]:
    """The hyperparameters an episode chooses (constants are not steps)."""
    return [hp for hp in space.values() if not isinstance(hp, Constant)]


def rescale(u: float, hp: Any) -> Any:
    """A value of ``hp`` for u in [0, 1] (the kit's unit-cube convention, see hpo_kit.spaces).

    * float: lower + u (upper - lower); on a log scale the same in log space;
    * integer: k = upper - lower + 1 equal bins, value lower + min(floor(u k), k - 1); on a log
      scale the widened interval [lower - 0.5, upper + 0.5] in log space, rounded;
    * categorical / ordinal: choice min(floor(u k), k - 1) of k.
    """
    u = float(min(max(u, 0.0), 1.0))
    if isinstance(hp, (CategoricalHyperparameter, OrdinalHyperparameter)):
        seq = list(hp.choices if isinstance(hp, CategoricalHyperparameter) else hp.sequence)
        return seq[min(int(math.floor(u * len(seq))), len(seq) - 1)]
    lower, upper = float(hp.lower), float(hp.upper)
    if isinstance(hp, IntegerHyperparameter):
        if hp.log:
            lo, hi = math.log(lower - 0.5), math.log(upper + 0.5)
            return int(min(max(round(math.exp(lo + u * (hi - lo))), lower), upper))
        k = int(upper - lower) + 1
        return int(lower) + min(int(math.floor(u * k)), k - 1)
    if isinstance(hp, FloatHyperparameter):
        if hp.log:
            lo, hi = math.log(lower), math.log(upper)
            return float(min(max(math.exp(lo + u * (hi - lo)), lower), upper))
        return float(min(max(lower + u * (upper - lower), lower), upper))
    raise TypeError(f"hyperparameter {hp.name!r} of type {type(hp).__name__} cannot be rescaled")


# ---------------------------------------------------------------------------- the two policies
class SDPPolicy(nn.Module):
    """RL-SDP: input embedding (2) -> LSTM (layers x units) -> output embedding (mu, sigma), n steps."""

    def __init__(self, n_steps: int, cfg: AgentConfig):
        super().__init__()
        self.n_steps, self.sigma_min = n_steps, cfg.sigma_min
        self.embed_in = nn.Linear(2, cfg.embed_size)
        # a stack of LSTM cells is nn.LSTM(embed_size, units, layers) stepped one input at a time
        # (same equations and parameters per layer), ~30 % faster for a 10-step loop on CPU
        self.cells = nn.ModuleList(nn.LSTMCell(cfg.embed_size if i == 0 else cfg.lstm_units, cfg.lstm_units)
                                   for i in range(cfg.lstm_layers))
        self.embed_out = nn.Linear(cfg.lstm_units, 2)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        state = torch.tensor([0.0, 1.0])  # the first state (0, 1)
        hidden: list = [None] * len(self.cells)
        mus, sigmas = [], []
        for _ in range(self.n_steps):
            x = self.embed_in(state).view(1, -1)
            for i, cell in enumerate(self.cells):
                hidden[i] = cell(x, hidden[i])
                x = hidden[i][0]
            raw = self.embed_out(x.view(-1))
            mu, sigma = torch.tanh(raw[0]), F.softplus(raw[1]) + self.sigma_min
            mus.append(mu)
            sigmas.append(sigma)
            state = torch.stack([mu, sigma])  # the next state: this step's distribution
        return torch.stack(mus), torch.stack(sigmas)


class DOCPolicy(nn.Module):
    """RL-DOC: n standard-normal inputs -> MLP -> all n (mu, sigma) at once."""

    def __init__(self, n_steps: int, cfg: AgentConfig, inputs: torch.Tensor):
        super().__init__()
        self.n_steps, self.sigma_min = n_steps, cfg.sigma_min
        layers: list[nn.Module] = []
        width = n_steps
        for _ in range(cfg.lstm_layers):
            layers += [nn.Linear(width, cfg.lstm_units), nn.Tanh()]
            width = cfg.lstm_units
        layers.append(nn.Linear(width, 2 * n_steps))
        self.net = nn.Sequential(*layers)
        self.register_buffer("inputs", inputs)  # fixed: the DOC state is this one random vector

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.net(self.inputs)
        return torch.tanh(raw[: self.n_steps]), F.softplus(raw[self.n_steps:]) + self.sigma_min


# ---------------------------------------------------------------------------- PPO pieces
def advantages(rewards: Sequence[float] | torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """A_i = R_i - mean(R), divided by the (ddof=0) standard deviation when ``normalize`` and it is > 0.

    With gamma = 1 and the reward at the last step, R_i is every step's return; the batch mean is
    the baseline (the paper names no critic).
    """
    r = torch.as_tensor(rewards, dtype=torch.float64).float()
    adv = r - r.mean()
    if normalize and len(r) > 1:
        std = adv.pow(2).mean().sqrt()
        if std > 1e-12:
            adv = adv / std
    return adv


def clipped_surrogate(logp_new: torch.Tensor, logp_old: torch.Tensor, adv: torch.Tensor,
                      clip: float) -> torch.Tensor:
    """PPO's clipped objective as a loss: -mean_{i,t} min(r A_i, clip(r, 1 - eps, 1 + eps) A_i).

    ``logp_*`` are per step, shape (episodes, steps); ``adv`` one per episode.
    """
    ratio = torch.exp(logp_new - logp_old)
    a = adv.reshape(-1, 1)
    return -torch.minimum(ratio * a, torch.clamp(ratio, 1 - clip, 1 + clip) * a).mean()


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    return -0.5 * ((z - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------- the agent
class Agent:
    """A policy over ``n_steps`` hyperparameters, its sampler and its PPO update; all seeded by ``seed``."""

    def __init__(self, n_steps: int, cfg: AgentConfig = AgentConfig(), seed: int = 0):
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1 (hyperparameters to choose), got {n_steps!r}")
        self.cfg, self.n_steps = cfg, int(n_steps)
        with torch.random.fork_rng(devices=[]):  # initial weights from the seed, global RNG untouched
            torch.manual_seed(int(seed))
            if cfg.variant == "sdp":
                self.policy: nn.Module = SDPPolicy(self.n_steps, cfg)
            else:
                self.policy = DOCPolicy(self.n_steps, cfg, torch.randn(self.n_steps))
        self.generator = torch.Generator().manual_seed(int(seed) + 1)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate)
        self.n_updates = 0
        self._cached: tuple[torch.Tensor, torch.Tensor] | None = None

    def distributions(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, sigma) of every step, detached (computed once per policy version: they take no input)."""
        if self._cached is None:
            with torch.no_grad():
                mu, sigma = self.policy()
            self._cached = (mu.clone(), sigma.clone())
        return self._cached[0].clone(), self._cached[1].clone()

    def sample(self, n_episodes: int) -> tuple[np.ndarray, np.ndarray]:
        """``n_episodes`` pre-squash draws z (episodes x steps) and their per-step log-probabilities."""
        mu, sigma = self.distributions()
        eps = torch.randn((int(n_episodes), self.n_steps), generator=self.generator)
        z = mu + sigma * eps
        return z.numpy().astype(np.float64), gaussian_log_prob(z, mu, sigma).numpy().astype(np.float64)

    def update(self, z: np.ndarray, logp_old: np.ndarray, rewards: Sequence[float]) -> dict[str, float]:
        """``ppo_epochs`` clipped-surrogate steps on one batch of episodes; returns the last loss and KL."""
        cfg = self.cfg
        z_t = torch.as_tensor(np.asarray(z, dtype=np.float64)).float()
        old = torch.as_tensor(np.asarray(logp_old, dtype=np.float64)).float()
        adv = advantages(rewards, cfg.normalize_advantage)
        before = self.distributions()
        loss = torch.tensor(0.0)
        for _ in range(cfg.ppo_epochs):
            mu, sigma = self.policy()
            logp = gaussian_log_prob(z_t, mu, sigma)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + torch.log(sigma)).mean()
            loss = clipped_surrogate(logp, old, adv, cfg.clip) - cfg.entropy_coef * entropy
            self.optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
            self.optimizer.step()
        self._cached = None
        self.n_updates += 1
        from hpo_kit.mbrl_hpo.reward_model import mean_kl

        return {"loss": float(loss.detach()), "kl": mean_kl(before, self.distributions())}


__all__ = ["Agent", "AgentConfig", "DOCPolicy", "SDPPolicy", "VARIANTS", "advantages", "clipped_surrogate",
           "gaussian_log_prob", "rescale", "searchable", "squash"]
