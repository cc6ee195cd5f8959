"""An LSTM controller trained with REINFORCE: the recurrent layer-by-layer builder (Zoph & Le 2017 style).

One LSTM step per hidden layer. The input is the previous layer (its kind as a one-hot, its three
choice indices scaled to [0, 1]); from the hidden state, softmax heads choose the layer kind (among
the kinds the structural rules allow) and that kind's three hyperparameters. The episode runs in the
same environment as TRL-HPO, so prefixes are trained after each layer and the same rules end it.

Learning: the episode's return ``R`` (sum of the environment's rewards = accuracy of the last valid
prefix, minus 1 if the episode ended on an invalid layer) is compared with a moving average ``b``
of past returns, and ``-(R - b) * sum(log-probabilities)`` is minimised with Adam after every episode.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.distributions import Categorical

from hpo_kit.trl_hpo.actions import LAYER_KINDS, allowed_kinds, choice_sizes, layer_from_indices
from hpo_kit.trl_hpo.baselines.random_search import SearchResult
from hpo_kit.trl_hpo.environment import LayerwiseCNNEnv


@dataclass(frozen=True)
class LSTMControllerConfig:
    total_episodes: int = 5000  # episodes at most (the time budget usually ends the run first)
    hidden_size: int = 35  # LSTM width (Zoph & Le used 35 units)
    n_layers: int = 2  # stacked LSTM layers
    lr: float = 6e-4  # Adam learning rate of the controller
    baseline_decay: float = 0.95  # b <- decay * b + (1 - decay) * R after every episode
    entropy_weight: float = 1e-3  # bonus on the policy's entropy, keeps early choices diverse

    def __post_init__(self) -> None:
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {self.baseline_decay}")
        if self.hidden_size < 1 or self.n_layers < 1 or not self.lr > 0:
            raise ValueError("hidden_size and n_layers must be >= 1 and lr > 0")


class Controller(nn.Module):
    """LSTM over layers with a kind head and three hyperparameter heads per kind."""

    INPUT_SIZE = len(LAYER_KINDS) + 1 + 3  # one-hot of the previous kind (or "input") + 3 scaled indices

    def __init__(self, cfg: LSTMControllerConfig):
        super().__init__()
        self.lstm = nn.LSTM(self.INPUT_SIZE, cfg.hidden_size, num_layers=cfg.n_layers, batch_first=True)
        self.kind_head = nn.Linear(cfg.hidden_size, len(LAYER_KINDS))
        self.heads = nn.ModuleDict({kind: nn.ModuleList([nn.Linear(cfg.hidden_size, n) for n in choice_sizes(kind)])
                                    for kind in LAYER_KINDS})

    @staticmethod
    def encode(previous: dict[str, Any] | None, indices: tuple[int, int, int] | None) -> torch.Tensor:
        x = torch.zeros(Controller.INPUT_SIZE)
        if previous is None:
            x[len(LAYER_KINDS)] = 1.0  # "input": no layer yet
        else:
            kind = previous["type"]
            x[LAYER_KINDS.index(kind)] = 1.0
            for j, (i, n) in enumerate(zip(indices, choice_sizes(kind))):
                x[len(LAYER_KINDS) + 1 + j] = i / max(n - 1, 1)
        return x


def run_lstm_controller(env: LayerwiseCNNEnv, cfg: LSTMControllerConfig, seed: int,
                        progress: Any = None) -> SearchResult:
    """Train the controller with REINFORCE until ``cfg.total_episodes`` or the time budget."""
    returns: list[float] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        controller = Controller(cfg)
        optimizer = torch.optim.Adam(controller.parameters(), lr=cfg.lr)
        baseline: float | None = None
        env.clock.start()
        episode = 0
        while episode < cfg.total_episodes and not env.out_of_time:
            env.reset()
            hidden = None
            x = Controller.encode(None, None)
            log_probs, entropies, rewards = [], [], []
            while not env.done and not env.out_of_time:
                out, hidden = controller.lstm(x[None, None, :], hidden)
                h = out[0, -1]
                # Kind: masked to what may follow the layers built so far.
                allowed = allowed_kinds(env.layers)
                mask = torch.tensor([k in allowed for k in LAYER_KINDS])
                kind_dist = Categorical(logits=controller.kind_head(h).masked_fill(~mask, float("-inf")))
                kind_index = kind_dist.sample()
                kind = LAYER_KINDS[int(kind_index)]
                dists = [Categorical(logits=head(h)) for head in controller.heads[kind]]
                picks = [d.sample() for d in dists]
                indices = tuple(int(p) for p in picks)
                log_prob = kind_dist.log_prob(kind_index) + sum(d.log_prob(p) for d, p in zip(dists, picks))
                entropy = sum(d.entropy() for d in dists) + (kind_dist.entropy() if len(allowed) > 1 else 0.0)
                layer = layer_from_indices(kind, indices, env.config.mode)
                step = env.step_layer(layer)
                log_probs.append(log_prob)
                entropies.append(entropy)
                rewards.append(step.reward)
                x = Controller.encode(layer, indices)
            if rewards:
                ret = float(sum(rewards))
                returns.append(ret)
                baseline = ret if baseline is None else baseline
                advantage = ret - baseline
                loss = -advantage * torch.stack(log_probs).sum() - cfg.entropy_weight * torch.stack(
                    [torch.as_tensor(e) for e in entropies]).sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                baseline = cfg.baseline_decay * baseline + (1 - cfg.baseline_decay) * ret
            episode += 1
            if progress is not None:
                progress.update(1)
    env.clock.stop()
    return SearchResult(env=env, info={"episodes": episode, "returns": returns, "controller": controller})

