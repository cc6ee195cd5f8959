"""The transformer actor and critic of TRL-HPO, written out so every tensor is visible.

The state is a sequence of ``n_slots`` (6) tokens, one per hidden layer built so far::

    token_t = tanh(W_a a_t + W_p perf_t)      (a_t: the 4-number action, perf_t: 32 accuracies)

and empty slots are the constant token -1. Both networks run the tokens through the same kind of
encoder (scale by sqrt(d_model), add sinusoidal positions, ``n_blocks`` post-norm transformer
blocks), flatten the ``n_slots x d_model`` result and end in one linear layer: the actor in a
sigmoid over the 4 action numbers, the critic in a tanh state value.

The attention is computed by hand (no ``nn.TransformerEncoder``) so each block keeps its last
attention probabilities (``last_attention``, batch x heads x query x key) and its mixed values before
the output projection (``last_mixed``, batch x slot x channel) for the transparency analysis.

Faithful-mode options reproduce the original implementation (Western-OC2-Lab/TRL-HPO):
``shared_head_projections`` (one head_dim x head_dim query/key/value matrix applied to every head's
slice of the token instead of full d_model x d_model projections) and ``original_positions`` (its
sinusoid uses exponents 2i/d for sine and 2(i+1)/d for cosine at even channel i, instead of i/d).
Whether the state projection is learned is decided by the agent (see ``agent.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    n_slots: int = 6  # state tokens = maximum hidden layers
    action_dim: int = 4  # numbers per action
    perf_dim: int = 32  # numbers per performance vector
    d_model: int = 64  # token width
    n_heads: int = 4  # attention heads
    n_blocks: int = 2  # transformer blocks
    d_ff: int = 256  # hidden width of each block's feed-forward network
    dropout: float = 0.2  # dropout after each of the block's two layer norms
    shared_head_projections: bool = False  # faithful: one small Q/K/V matrix shared by all heads
    original_positions: bool = False  # faithful: the original's sinusoid exponents

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def uniform_fan_in_init(module: nn.Module) -> None:
    """The original's init for linear layers: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias 0."""
    if isinstance(module, nn.Linear):
        bound = 1.0 / math.sqrt(module.in_features)
        nn.init.uniform_(module.weight, -bound, bound)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class StateEncoder(nn.Module):
    """token = tanh(W_a a + W_p perf); empty slots (index >= n_filled) become the constant -1."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.action_proj = nn.Linear(cfg.action_dim, cfg.d_model)
        self.perf_proj = nn.Linear(cfg.perf_dim, cfg.d_model)
        self.apply(uniform_fan_in_init)

    def forward(self, actions: torch.Tensor, perfs: torch.Tensor, n_filled: torch.Tensor) -> torch.Tensor:
        # actions: B x T x 4, perfs: B x T x P, n_filled: B (integers)
        tokens = torch.tanh(self.action_proj(actions) + self.perf_proj(perfs))
        slots = torch.arange(actions.shape[1], device=actions.device)
        empty = slots[None, :] >= n_filled[:, None]  # B x T
        return torch.where(empty[..., None], torch.full_like(tokens, -1.0), tokens)


def sinusoidal_positions(n_slots: int, d_model: int, original: bool = False) -> torch.Tensor:
    """n_slots x d_model positional table (sine on even channels, cosine on odd ones)."""
    pe = torch.zeros(n_slots, d_model)
    for pos in range(n_slots):
        for i in range(0, d_model, 2):
            if original:  # the original's exponents: 2i/d for sine, 2(i+1)/d for cosine
                pe[pos, i] = math.sin(pos / 10000 ** (2 * i / d_model))
                pe[pos, i + 1] = math.cos(pos / 10000 ** (2 * (i + 1) / d_model))
            else:  # Vaswani et al.: the pair (i, i+1) shares the frequency 1 / 10000^(i/d)
                pe[pos, i] = math.sin(pos / 10000 ** (i / d_model))
                pe[pos, i + 1] = math.cos(pos / 10000 ** (i / d_model))
    return pe


class SelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.head_dim = cfg.d_model // cfg.n_heads
        self.shared = cfg.shared_head_projections
        width = self.head_dim if self.shared else cfg.d_model
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.last_attention: torch.Tensor | None = None  # B x H x T x T, detached
        self.last_mixed: torch.Tensor | None = None  # B x T x d_model (heads concatenated), detached

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        H, D = self.n_heads, self.head_dim
        if self.shared:  # split into heads first, then one D x D matrix for every head
            heads = x.view(B, T, H, D)
            q, k, v = self.query(heads), self.key(heads), self.value(heads)
        else:  # project the whole token, then split into heads
            q, k, v = (proj(x).view(B, T, H, D) for proj in (self.query, self.key, self.value))
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # B x H x T x D
        attention = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(D), dim=-1)  # B x H x T x T
        mixed = (attention @ v).transpose(1, 2).reshape(B, T, C)  # heads side by side
        self.last_attention = attention.detach()
        self.last_mixed = mixed.detach()
        return self.out(mixed)


class Block(nn.Module):
    """Post-norm transformer block, as in the original: norm(x + attn(x)), then norm(x + mlp(x))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.attn = SelfAttention(cfg)
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.ReLU(), nn.Linear(cfg.d_ff, cfg.d_model))
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.norm1(x + self.attn(x)))
        return self.drop(self.norm2(x + self.mlp(x)))


class Encoder(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.scale = math.sqrt(cfg.d_model)
        self.register_buffer("positions", sinusoidal_positions(cfg.n_slots, cfg.d_model, cfg.original_positions))
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_blocks)])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens * self.scale + self.positions
        for block in self.blocks:
            x = block(x)
        return x


class Actor(nn.Module):
    """State -> action in [0, 1]^4."""

    def __init__(self, cfg: TransformerConfig, state_encoder: StateEncoder):
        super().__init__()
        self.state_encoder = state_encoder
        self.encoder = Encoder(cfg)
        self.head = nn.Linear(cfg.n_slots * cfg.d_model, cfg.action_dim)

    def forward(self, actions: torch.Tensor, perfs: torch.Tensor, n_filled: torch.Tensor) -> torch.Tensor:
        x = self.encoder(self.state_encoder(actions, perfs, n_filled))
        return torch.sigmoid(self.head(x.flatten(1)))


class Critic(nn.Module):
    """State -> value in (-1, 1) (the return from the newest layer's reward on)."""

    def __init__(self, cfg: TransformerConfig, state_encoder: StateEncoder):
        super().__init__()
        self.state_encoder = state_encoder
        self.encoder = Encoder(cfg)
        self.head = nn.Linear(cfg.n_slots * cfg.d_model, 1)

    def forward(self, actions: torch.Tensor, perfs: torch.Tensor, n_filled: torch.Tensor) -> torch.Tensor:
        x = self.encoder(self.state_encoder(actions, perfs, n_filled))
        return torch.tanh(self.head(x.flatten(1))).squeeze(-1)


READOUTS = ("fixed", "faithful")


@torch.no_grad()
def slot_attention(critic: Critic, actions: torch.Tensor, perfs: torch.Tensor, n_filled: torch.Tensor,
                   readout: str = "fixed") -> np.ndarray:
    """Per-slot weights (rows sum to 1) from the critic's first block, one row per state.

    ``"fixed"``: the attention each slot *receives*, i.e. the attention probabilities averaged over
    heads and query positions. ``"faithful"``: the original's read-out, a softmax over positions of
    the heads' mixed values (attention output before the projection), averaged over channels --
    a summary of the block's output rather than of its attention weights.
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    was_training = critic.training
    critic.eval()
    try:
        critic(actions, perfs, n_filled)
    finally:
        critic.train(was_training)
    attn = critic.encoder.blocks[0].attn
    if readout == "fixed":
        weights = attn.last_attention.mean(dim=(1, 2))  # B x T (keys)
    else:
        weights = F.softmax(attn.last_mixed, dim=1).mean(dim=2)  # B x T
    return weights.cpu().numpy()
