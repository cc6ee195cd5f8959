"""GEN-VAE's network on one page: a Transformer reads the history, a conditional VAE proposes x.

Shapes (B batch items, C context points, d hyperparameters, D = ``d_model``)::

    tokens  [x, y]            (B, C, d + 1)
    embed   MLP d+1 -> 32 -> D, LeakyReLU(0.2) after each layer, times sqrt(D)
    encoder TransformerEncoder: n_layers x (n_heads, feed-forward d_ff, dropout), batch first
    h       mean over the C context tokens                          (B, D)
    q(z | x, I, h)   [x, I, h] (d + 1 + D) -> 32 -> 64 -> mu, logvar (B, z_dim)
    p(x | z, I, h)   [z, I, h] (z_dim + 1 + D) -> 64 -> 32 -> d, sigmoid (x lies in [0, 1]^d)

``I`` is 1 when the target configuration beat every point of its context. The defaults are the
coding-challenge write-up's sizes for HPO-B's search space 5971 (d = 16): embedding 17 -> 32,
VAE encoder input 49, decoder input 35. Whether the reshape of the embedding mixes batch items and
how z is sampled are the method's business (:mod:`hpo_kit.gen_vae.method`), passed in here as flags
so that both modes share every weight shape.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class ModelConfig:
    dim: int = 16          # hyperparameters d (space 5971 after HPO-B's preprocessing: 16)
    d_model: int = 32      # token width D
    n_heads: int = 4
    n_layers: int = 3
    d_ff: int = 2048       # PyTorch's default feed-forward width of nn.TransformerEncoderLayer
    dropout: float = 0.1   # PyTorch's default
    embed_hidden: int = 32
    vae_hidden: int = 32
    vae_latent: int = 64   # the write-up calls this width "latent dimension"; z itself is z_dim
    z_dim: int = 2

    def validate(self) -> None:
        for name in ("dim", "d_model", "n_heads", "n_layers", "d_ff", "embed_hidden", "vae_hidden", "vae_latent",
                     "z_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"ModelConfig.{name} must be an integer >= 1, got {v!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")


def _mlp(sizes: list[int], last: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


class HistoryEncoder(nn.Module):
    """Tokens [x, y] -> one vector per batch item (embedding MLP, Transformer encoder, mean pool)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = _mlp([cfg.dim + 1, cfg.embed_hidden, cfg.d_model], nn.LeakyReLU(0.2))
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, dim_feedforward=cfg.d_ff, dropout=cfg.dropout,
                                           batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)

    def forward(self, tokens: torch.Tensor, mix_batch: bool = False) -> torch.Tensor:
        if tokens.ndim != 3 or tokens.shape[-1] != self.cfg.dim + 1:
            raise ValueError(f"tokens must have shape (B, C, {self.cfg.dim + 1}), got {tuple(tokens.shape)}")
        B, C, F = tokens.shape
        if mix_batch:
            # The challenge code lays the batch out as (C, B, F), flattens it and reads it back as
            # (B, C, D): row b of the result then holds tokens of other batch items (flat index
            # b*C + c is item (b*C + c) % B of context slot (b*C + c) // B). Reproduced as is.
            e = self.embed(tokens.permute(1, 0, 2).reshape(B * C, F)).reshape(B, C, self.cfg.d_model)
        else:
            e = self.embed(tokens)
        e = e * math.sqrt(self.cfg.d_model)
        return self.transformer(e).mean(dim=1)


class ConditionalVAE(nn.Module):
    """q(z | x, I, h) and p(x | z, I, h); the decoder ends in a sigmoid because x lies in [0, 1]^d."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = _mlp([cfg.dim + 1 + cfg.d_model, cfg.vae_hidden, cfg.vae_latent], nn.LeakyReLU(0.2))
        self.mu = nn.Linear(cfg.vae_latent, cfg.z_dim)
        self.logvar = nn.Linear(cfg.vae_latent, cfg.z_dim)
        self.decoder = _mlp([cfg.z_dim + 1 + cfg.d_model, cfg.vae_latent, cfg.vae_hidden, cfg.dim], nn.Sigmoid())

    def encode(self, x: torch.Tensor, I: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.encoder(torch.cat([x, I, h], dim=1))
        return self.mu(a), self.logvar(a)

    def decode(self, z: torch.Tensor, I: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, I, h], dim=1))

    def forward(self, x: torch.Tensor, I: torch.Tensor, h: torch.Tensor, eps: torch.Tensor,
                logvar_as_std: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction, mu, logvar. ``eps`` ~ N(0, 1) is passed in (the caller owns the random stream).

        ``logvar_as_std=True`` is the challenge code's reparameterisation z = mu + logvar * eps; the
        standard one is z = mu + exp(logvar / 2) * eps.
        """
        mu, logvar = self.encode(x, I, h)
        z = mu + (logvar if logvar_as_std else torch.exp(0.5 * logvar)) * eps
        return self.decode(z, I, h), mu, logvar


class GenVAEModel(nn.Module):
    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.cfg = cfg or ModelConfig()
        self.cfg.validate()
        self.history = HistoryEncoder(self.cfg)
        self.vae = ConditionalVAE(self.cfg)


def kl_per_item(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per batch item, summed over latent dimensions."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


__all__ = ["ConditionalVAE", "GenVAEModel", "HistoryEncoder", "ModelConfig", "kl_per_item"]
