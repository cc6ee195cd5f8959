"""GEN-VAE's network: shapes, gradients, the faithful batch layout, determinism by seed."""
from __future__ import annotations

import pytest
import torch

from hpo_kit.gen_vae.model import ConditionalVAE, GenVAEModel, HistoryEncoder, ModelConfig, kl_per_item


def small(**kw) -> ModelConfig:
    return ModelConfig(d_ff=64, **kw)  # a narrow feed-forward keeps the tests fast; shapes do not depend on it


def test_write_up_sizes_for_space_5971():
    m = GenVAEModel(ModelConfig())
    assert m.history.embed[0].in_features == 17 and m.history.embed[-2].out_features == 32
    assert m.vae.encoder[0].in_features == 49 and m.vae.decoder[0].in_features == 35
    assert m.vae.decoder[-2].out_features == 16 and m.vae.mu.out_features == 2
    layers = m.history.transformer.layers
    assert len(layers) == 3 and layers[0].self_attn.num_heads == 4 and layers[0].linear1.out_features == 2048


def test_shapes_and_range():
    torch.manual_seed(0)
    m = GenVAEModel(small())
    tokens = torch.rand(5, 7, 17)
    h = m.history(tokens)
    assert h.shape == (5, 32)
    x, I = torch.rand(5, 16), torch.ones(5, 1)
    x_hat, mu, logvar = m.vae(x, I, h, torch.randn(5, 2))
    assert x_hat.shape == (5, 16) and mu.shape == (5, 2) and logvar.shape == (5, 2)
    assert ((x_hat > 0) & (x_hat < 1)).all()


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    m = GenVAEModel(small())
    m.train()
    h = m.history(torch.rand(4, 6, 17))
    x = torch.rand(4, 16)
    x_hat, mu, logvar = m.vae(x, torch.zeros(4, 1), h, torch.randn(4, 2))
    (((x_hat - x) ** 2).sum() + kl_per_item(mu, logvar).sum()).backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    assert all(p.grad.abs().sum() > 0 for n, p in m.named_parameters() if n.startswith("vae."))


def test_mixed_layout_leaks_other_items_and_plain_layout_does_not():
    torch.manual_seed(0)
    enc = HistoryEncoder(small()).eval()
    tokens = torch.rand(3, 4, 17)
    other = tokens.clone()
    other[1] += 1.0  # change item 1 only
    with torch.no_grad():
        plain = enc(tokens)[0] - enc(other)[0]
        mixed = enc(tokens, mix_batch=True)[0] - enc(other, mix_batch=True)[0]
    assert torch.allclose(plain, torch.zeros_like(plain))
    assert mixed.abs().max() > 1e-4
    with torch.no_grad():  # one item: both layouts agree
        assert torch.allclose(enc(tokens[:1]), enc(tokens[:1], mix_batch=True))


def test_reparameterisation_flag():
    torch.manual_seed(0)
    vae = ConditionalVAE(small())
    x, I, h, eps = torch.rand(3, 16), torch.ones(3, 1), torch.rand(3, 32), torch.randn(3, 2)
    mu, logvar = vae.encode(x, I, h)
    seen = {}
    vae.decode = lambda z, I, h: seen.setdefault("z", z)  # capture z
    vae(x, I, h, eps, logvar_as_std=True)
    assert torch.allclose(seen.pop("z"), mu + logvar * eps)
    vae(x, I, h, eps)
    assert torch.allclose(seen.pop("z"), mu + torch.exp(0.5 * logvar) * eps)


def test_kl_is_zero_at_the_prior():
    assert torch.allclose(kl_per_item(torch.zeros(3, 2), torch.zeros(3, 2)), torch.zeros(3))
    assert torch.allclose(kl_per_item(torch.ones(1, 2), torch.zeros(1, 2)), torch.tensor([1.0]))


def test_same_seed_same_weights():
    torch.manual_seed(3)
    a = GenVAEModel(small())
    torch.manual_seed(3)
    b = GenVAEModel(small())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("bad", [{"dim": 0}, {"d_model": 30}, {"dropout": 1.0}])
def test_bad_config(bad):
    with pytest.raises(ValueError):
        GenVAEModel(ModelConfig(**bad))


def test_bad_token_shape():
    with pytest.raises(ValueError, match="tokens"):
        HistoryEncoder(small())(torch.rand(2, 3, 10))
