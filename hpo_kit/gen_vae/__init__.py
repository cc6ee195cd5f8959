"""GEN-VAE (the VAE + Transformer method of an HPO-B coding-challenge write-up) on HPO-B's protocol.

Notebook 05. The benchmark protocol itself lives in :mod:`hpo_kit.hpob`; this package holds:

* :mod:`~hpo_kit.gen_vae.model` -- the network on one page (token embedding, Transformer encoder, conditional VAE).
* :mod:`~hpo_kit.gen_vae.method` -- observe-and-suggest in faithful and fixed modes (``QUIRKS`` names every change).
* :mod:`~hpo_kit.gen_vae.baselines` -- random search, GP-EI (the kit's GP), TPE (Optuna), transfer (meta-train best).
* :mod:`~hpo_kit.gen_vae.experiment` -- every method on the same tasks, seeds and protocol; resumable runs on disk.
* :mod:`~hpo_kit.gen_vae.analysis` -- regret and rank curves, the regret table, critical-difference diagrams.
* :mod:`~hpo_kit.gen_vae.reference` -- HPO-B's published curves on space 5971 (numbers derived from its result files).
* :mod:`~hpo_kit.gen_vae.claims` -- the claims, decided by the kit's one rule (hpo_kit.claims).
* :mod:`~hpo_kit.gen_vae.null_checks` -- end-to-end null checks of the claims (the factor removed).
* :mod:`~hpo_kit.gen_vae.parameters` -- rules between the notebook's parameters.
"""
from hpo_kit.gen_vae.method import MODES, QUIRKS, GenVAE, GenVAEConfig
from hpo_kit.gen_vae.model import GenVAEModel, ModelConfig

__all__ = ["GenVAE", "GenVAEConfig", "GenVAEModel", "MODES", "ModelConfig", "QUIRKS"]
