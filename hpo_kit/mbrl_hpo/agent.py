"""The RL agents of Wu, Chen & Liu (2020), read top to bottom like a CleanRL file.

HPO as a sequential decision problem: one episode chooses one configuration, one hyperparameter per
step, in an *order* (a permutation of the n hyperparameters, fixed or drawn afresh per episode).
The reward is 0 until the last step, then the configuration's score (the searcher passes
``-validation loss``, i.e. accuracy - 1 for an error loss); gamma = 1, so every step of an episode
has the same return.

RL-SDP (sequential decision policy); hp_t = order[t] is the hyperparameter chosen at step t::

    state_0 = (0, 1);  prev_0 = "start"
    for t in 0..n-1:
        h_t       = LSTM(embed_in[prev_t](state_t), h_{t-1})          # 3 layers x 35 units
        raw       = embed_out[hp_t](h_t)                              # (mu, sigma) of hp_t
        mu_t      = raw[0];  sigma_t = softplus(raw[1]) + sigma_min   # mu unbounded: tanh only once, below
        z_t ~ N(mu_t, sigma_t);  a_t = tanh(z_t) in (-1, 1);  u_t = (a_t + 1) / 2 in (0, 1)
        value of hp_t = rescale(u_t)
        state_t+1 = (a_t, 0);  prev_t+1 = hp_t                        # what was just chosen, and for which hp

Each hyperparameter has its own input embedding (of the value chosen for it) and its own output
embedding (its mu, sigma), both of the paper's sizes; the LSTM between them is shared. So the
distribution of step t+1 is a function of the values already chosen *and of which hyperparameter
each was* -- what lets the agent condition on previous choices when the order changes per episode.

``AgentConfig.state = "distribution"`` is the ablation that feeds the previous step's (mu, sigma)
instead of the sampled value (one reading of the paper's state): the n distributions then do not
depend on anything sampled, so every hyperparameter is drawn independently, like RL-DOC.

RL-DOC (one-step ablation): an MLP maps n standard-normal inputs (drawn once per agent from its
seed) to all n (mu, sigma) pairs at once, one per hyperparameter, whatever the order; it cannot
make one hyperparameter depend on another.

Squashing: the Gaussian is sampled in the unbounded space and tanh is applied once, to the sample
(the mean itself is not squashed), so the policy's centre u = (tanh(mu) + 1) / 2 reaches any
point of (0, 1). PPO works on the pre-squash values z (tanh is a fixed bijection, so its Jacobian
cancels in the probability ratio). Because step t+1's distribution depends on the sample of step
t, the log-probabilities of a batch are recomputed by re-running the policy on each episode's
sampled sequence (teacher forcing)::

    A_i      = R_i - mean(R)  [/ std(R)]                           # batch-mean baseline, no critic
    mu, sigma = policy(order_i, z_i)                               # per episode, teacher forced
    ratio_it = exp(log N(z_it; mu_it, sigma_it) - logp_old_it)
    loss     = -mean_it min(ratio_it A_i, clip(ratio_it, 1-eps, 1+eps) A_i) - c_ent * mean_it H_it

Every choice the paper leaves open is a named field of :class:`AgentConfig` and a row of
:data:`hpo_kit.mbrl_hpo.quirks.QUIRKS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

VARIANTS = ("sdp", "doc")
#: what the LSTM reads at step t+1: the value sampled at step t (the paper's "based on the previous
#: choices"), or the ablation's previous (mu, sigma), which makes the draws independent
STATES = ("sampled", "distribution")


@dataclass(frozen=True)
class AgentConfig:
    """Every hyperparameter of the agent and its PPO (paper's values where it gives them)."""

    variant: str = "sdp"            # "sdp": LSTM over the n steps (RL-SDP); "doc": one-step MLP (RL-DOC)
    state: str = "sampled"          # SDP input at step t+1: "sampled" value of step t, or ablation "distribution"
    learning_rate: float = 0.007    # Adam learning rate (paper: 0.007)
    embed_size: int = 2             # input embedding nodes (paper: 2), one embedding per hyperparameter
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
        if self.state not in STATES:
            raise ValueError(f"AgentConfig.state must be one of {list(STATES)}, got {self.state!r}")
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
    """Pre-squash Gaussian draw z -> u = (tanh(z) + 1) / 2 in (0, 1): the only tanh between mu and u."""
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
def _linear_weights(count: int, n_in: int, n_out: int) -> tuple[nn.Parameter, nn.Parameter]:
    """``count`` independent Linear(n_in -> n_out) layers as stacked tensors (nn.Linear's initialisation),
    so that each episode of a batch can use the one of its own hyperparameter in one batched product."""
    bound = 1.0 / math.sqrt(n_in)
    weight = nn.Parameter(torch.empty(count, n_out, n_in).uniform_(-bound, bound))
    bias = nn.Parameter(torch.empty(count, n_out).uniform_(-bound, bound))
    return weight, bias


class SDPPolicy(nn.Module):
    """RL-SDP: per-hyperparameter input embedding (2) -> shared LSTM (layers x units) -> per-hyperparameter
    output embedding (mu, sigma), one step per hyperparameter."""

    def __init__(self, n_steps: int, cfg: AgentConfig):
        super().__init__()
        self.n_steps, self.sigma_min, self.state = n_steps, cfg.sigma_min, cfg.state
        # input embedding 0 reads the first state (0, 1); embedding 1 + j reads the value chosen for hyperparameter j
        self.in_weight, self.in_bias = _linear_weights(n_steps + 1, 2, cfg.embed_size)
        # a stack of LSTM cells is nn.LSTM(embed_size, units, layers) stepped one input at a time
        # (same equations and parameters per layer); stepping is needed since input t+1 is sample t
        self.cells = nn.ModuleList(nn.LSTMCell(cfg.embed_size if i == 0 else cfg.lstm_units, cfg.lstm_units)
                                   for i in range(cfg.lstm_layers))
        self.out_weight, self.out_bias = _linear_weights(n_steps, cfg.lstm_units, 2)

    def forward(self, order: torch.Tensor, z: torch.Tensor | None = None,
                eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mu, sigma, z), each (episodes, steps) in step order, for episodes with the given ``order``.

        Teacher forcing: with ``z`` given, step t+1 reads z's step t (the recorded sample); otherwise
        the episode is sampled as it goes, z_t = mu_t + sigma_t eps_t.
        """
        episodes = order.shape[0]
        state = torch.tensor([0.0, 1.0]).expand(episodes, 2)
        prev = torch.zeros(episodes, dtype=torch.long)  # embedding 0: "nothing chosen yet"
        hidden: list = [None] * len(self.cells)
        mus, sigmas, zs = [], [], []
        for t in range(self.n_steps):
            hp = order[:, t]
            x = torch.bmm(self.in_weight[prev], state.unsqueeze(-1)).squeeze(-1) + self.in_bias[prev]
            for i, cell in enumerate(self.cells):
                hidden[i] = cell(x, hidden[i])
                x = hidden[i][0]
            raw = torch.bmm(self.out_weight[hp], x.unsqueeze(-1)).squeeze(-1) + self.out_bias[hp]
            mu, sigma = raw[:, 0], F.softplus(raw[:, 1]) + self.sigma_min
            z_t = z[:, t] if z is not None else (mu + sigma * eps[:, t]).detach()
            mus.append(mu)
            sigmas.append(sigma)
            zs.append(z_t)
            if self.state == "sampled":
                state = torch.stack([torch.tanh(z_t), torch.zeros_like(z_t)], dim=1)  # the value just chosen
            else:  # ablation: the previous distribution, which carries nothing sampled
                state = torch.stack([mu, sigma], dim=1)
            prev = hp + 1
        return torch.stack(mus, 1), torch.stack(sigmas, 1), torch.stack(zs, 1)


class DOCPolicy(nn.Module):
    """RL-DOC: n standard-normal inputs -> MLP -> all n (mu, sigma) at once, one pair per hyperparameter."""

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

    def forward(self, order: torch.Tensor, z: torch.Tensor | None = None,
                eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mu, sigma, z) in step order, like :meth:`SDPPolicy.forward`; nothing depends on z."""
        raw = self.net(self.inputs)
        mu_hp, sigma_hp = raw[: self.n_steps], F.softplus(raw[self.n_steps:]) + self.sigma_min
        mu, sigma = mu_hp[order], sigma_hp[order]  # each episode's hyperparameters in its step order
        if z is None:
            z = (mu + sigma * eps).detach()
        return mu, sigma, z


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


def step_kl(old: tuple[torch.Tensor, torch.Tensor], new: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """KL(N(mu_o, s_o) || N(mu_n, s_n)) elementwise."""
    (mu_o, s_o), (mu_n, s_n) = old, new
    return torch.log(s_n / s_o) + (s_o**2 + (mu_o - mu_n) ** 2) / (2 * s_n**2) - 0.5


# ---------------------------------------------------------------------------- the agent
class Episodes(NamedTuple):
    """A batch of episodes, each array (episodes, steps) in step order."""

    z: np.ndarray       # pre-squash draws
    logp: np.ndarray    # their log-probabilities under the policy that drew them
    order: np.ndarray   # the hyperparameter (index 0..n-1) chosen at each step


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

    def orders(self, n_episodes: int, order: str | Sequence[int] | np.ndarray | None = None) -> torch.Tensor:
        """The step -> hyperparameter index table (episodes x steps) of ``n_episodes`` episodes.

        ``None``: 0, 1, ..., n-1 for every episode; a permutation: that one for every episode;
        ``"random"``: a fresh permutation per episode, drawn from the agent's seeded generator;
        an (episodes x steps) array: as given.
        """
        n, e = self.n_steps, int(n_episodes)
        if order is None:
            return torch.arange(n).expand(e, n).clone()
        if isinstance(order, str):
            if order != "random":
                raise ValueError(f"order must be None, 'random', a permutation of 0..{n - 1} or one per episode, "
                                 f"got {order!r}")
            return torch.stack([torch.randperm(n, generator=self.generator) for _ in range(e)])
        table = torch.as_tensor(np.asarray(order, dtype=np.int64))
        if table.ndim == 1:
            table = table.expand(e, n).clone() if table.shape == (n,) else table
        if table.shape != (e, n) or not torch.equal(table.sort(dim=1).values, torch.arange(n).expand(e, n)):
            raise ValueError(f"order must give each of the {e} episodes a permutation of 0..{n - 1}, "
                             f"got shape {tuple(table.shape)}")
        return table

    def sample(self, n_episodes: int, order: str | Sequence[int] | np.ndarray | None = None) -> Episodes:
        """``n_episodes`` episodes drawn from the current policy (``order`` as in :meth:`orders`)."""
        table = self.orders(n_episodes, order)
        eps = torch.randn((int(n_episodes), self.n_steps), generator=self.generator)
        with torch.no_grad():
            mu, sigma, z = self.policy(table, eps=eps)
            logp = gaussian_log_prob(z, mu, sigma)
        return Episodes(z.numpy().astype(np.float64), logp.numpy().astype(np.float64), table.numpy())

    def distributions(self, z: np.ndarray, order: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, sigma) of every step of the episodes ``z`` (episodes x steps), teacher forced, detached."""
        z_t = torch.as_tensor(np.asarray(z, dtype=np.float64)).float().reshape(-1, self.n_steps)
        with torch.no_grad():
            mu, sigma, _ = self.policy(self.orders(len(z_t), order), z=z_t)
        return mu, sigma

    def update(self, z: np.ndarray, logp_old: np.ndarray, rewards: Sequence[float],
               order: np.ndarray | None = None) -> dict[str, float]:
        """``ppo_epochs`` clipped-surrogate steps on one batch of episodes; returns the last loss and the mean
        per-step KL(before || after) on the batch's own episodes."""
        cfg = self.cfg
        z_t = torch.as_tensor(np.asarray(z, dtype=np.float64)).float()
        old = torch.as_tensor(np.asarray(logp_old, dtype=np.float64)).float()
        table = self.orders(len(z_t), order)
        adv = advantages(rewards, cfg.normalize_advantage)
        loss, before = torch.tensor(0.0), None
        for _ in range(cfg.ppo_epochs):
            mu, sigma, _ = self.policy(table, z=z_t)  # teacher forcing: the recorded samples feed the next steps
            if before is None:  # the first pass is the policy before this update
                before = (mu.detach(), sigma.detach())
            logp = gaussian_log_prob(z_t, mu, sigma)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + torch.log(sigma)).mean()
            loss = clipped_surrogate(logp, old, adv, cfg.clip) - cfg.entropy_coef * entropy
            self.optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
            self.optimizer.step()
        self.n_updates += 1
        after = self.distributions(z_t.numpy(), table.numpy())
        return {"loss": float(loss.detach()), "kl": float(step_kl(before, after).mean())}


__all__ = ["Agent", "AgentConfig", "DOCPolicy", "Episodes", "SDPPolicy", "STATES", "VARIANTS", "advantages",
           "clipped_surrogate", "gaussian_log_prob", "rescale", "searchable", "squash", "step_kl"]
