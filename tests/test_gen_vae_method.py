"""GEN-VAE's observe-and-suggest: every row of QUIRKS observable in faithful mode, absent in fixed mode."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hpo_kit.gen_vae.method import QUIRKS, GenVAE, GenVAEConfig
from hpo_kit.gen_vae.model import ModelConfig

FAST = dict(model=ModelConfig(d_ff=64), n_steps=3)


def method(mode: str, seed: int = 0, **kw) -> GenVAE:
    return GenVAE(16, seed, GenVAEConfig(mode=mode, **{**FAST, **kw}))


def history(n: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 16))
    return X, (X[:, :1] - 0.5) ** 2


def test_quirks_table_names_every_row_tested_here():
    topics = [q[0] for q in QUIRKS]
    assert topics == ["what is trained", "reparameterisation", "training batch layout", "z at suggestion",
                      "loss scale", "targets", "target in its own context", "candidates"]


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_what_is_trained(mode):
    m = method(mode)
    hist, vae = _snapshot(m.model.history), _snapshot(m.model.vae)
    m.observe_and_suggest(*history())
    hist_changed = any(not torch.equal(a, b) for a, b in zip(hist, m.model.history.parameters()))
    vae_changed = any(not torch.equal(a, b) for a, b in zip(vae, m.model.vae.parameters()))
    assert vae_changed
    assert hist_changed == (mode == "fixed")


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_reparameterisation(mode):
    m = method(mode)
    seen = {}
    forward = m.model.vae.forward

    def spy(x, I, h, eps, logvar_as_std=False):
        seen["flag"] = logvar_as_std
        return forward(x, I, h, eps, logvar_as_std)

    m.model.vae.forward = spy
    X, y = history()
    m.loss(m.sample_batch(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)))
    assert seen["flag"] == (mode == "faithful")  # faithful: z = mu + logvar * eps (model test checks the formula)


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_training_batch_layout(mode):
    m = method(mode)
    m.model.eval()  # no dropout: only the layout can make item 0 depend on item 1
    tokens = torch.rand(3, 4, 17)
    other = tokens.clone()
    other[1] += 1.0
    with torch.no_grad():
        leak = (m.context_vectors(tokens)[0] - m.context_vectors(other)[0]).abs().max()
    assert (leak > 1e-4) == (mode == "faithful")


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_z_at_suggestion(mode):
    torch.manual_seed(0)
    z = method(mode).latent(2000)
    if mode == "faithful":  # mean of 10 uniforms: in [0, 1), centred on 0.5, s.d. about 0.09
        assert (z >= 0).all() and (z < 1).all() and abs(float(z.mean()) - 0.5) < 0.01 and float(z.std()) < 0.12
    else:  # the prior
        assert abs(float(z.mean())) < 0.1 and abs(float(z.std()) - 1) < 0.1 and (z < 0).any()


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_loss_scale(mode):
    m = method(mode)
    B, d = 8, 16
    x, x_hat = torch.zeros(B, d), torch.ones(B, d)  # squared error 1 per entry
    mu, logvar = torch.ones(B, 2), torch.zeros(B, 2)  # KL 1 per item
    loss = float(m.loss_terms(x_hat, x, mu, logvar))
    assert loss == pytest.approx(1 + B if mode == "faithful" else d + 1)


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_targets_and_their_contexts(mode):
    m = method(mode, batch_size=64)
    X, y = history(6)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    torch.manual_seed(0)
    first_is_target, target_in_context = False, False
    for _ in range(50):
        b = m.sample_batch(X, y)
        first_is_target |= bool((b["targets"] == 0).any())
        target_in_context |= bool((b["contexts"] == b["targets"][:, None]).any())
        assert b["tokens"].shape[0] == 64 and b["tokens"].shape[2] == 17
        best = y[b["contexts"], 0].max(dim=1).values
        assert torch.equal(b["I"][:, 0], (y[b["targets"], 0] > best).float())
    assert first_is_target == (mode == "fixed")  # faithful: index 0 is never a target
    assert target_in_context == (mode == "faithful")


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_candidates(mode):
    m = method(mode, n_candidates=5)
    X, y = history()
    h = m._history_vector(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    assert len(m.decode_candidates(h)) == (1 if mode == "faithful" else 5)


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_both_protocols(mode):
    X, y = history()
    x = method(mode).observe_and_suggest(X, y)
    assert x.shape == (1, 16) and ((x >= 0) & (x <= 1)).all()
    pool = np.random.default_rng(1).random((7, 16))
    i = method(mode).observe_and_suggest(X, y, X_pen=pool)
    assert isinstance(i, int) and 0 <= i < 7


@pytest.mark.parametrize("mode", ["faithful", "fixed"])
def test_deterministic_by_seed(mode):
    X, y = history()
    a = method(mode, seed=1)
    b = method(mode, seed=1)
    torch.manual_seed(123)  # global torch state must not matter
    xa = a.observe_and_suggest(X, y)
    torch.manual_seed(456)
    xb = b.observe_and_suggest(X, y)
    assert np.array_equal(xa, xb)
    assert not np.array_equal(xa, method(mode, seed=2).observe_and_suggest(X, y))


def test_bad_inputs():
    with pytest.raises(ValueError, match="mode"):
        GenVAE(16, 0, GenVAEConfig(mode="exact"))
    with pytest.raises(ValueError, match="X_obs"):
        method("fixed").observe_and_suggest(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="at least 2"):
        method("fixed").observe_and_suggest(np.zeros((1, 16)), np.zeros(1))
    with pytest.raises(ValueError, match="X_pen"):
        method("fixed").observe_and_suggest(*history(), X_pen=np.zeros((0, 16)))
    with pytest.raises(ValueError, match="n_steps"):
        GenVAE(16, 0, GenVAEConfig(n_steps=0))
