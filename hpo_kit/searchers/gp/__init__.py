"""Gaussian-process machinery of the GP searchers: kernels, exact GP model, acquisition."""
from hpo_kit.searchers.gp.kernels import ExpDecayResource, Matern52, Matern52ExpDecay
from hpo_kit.searchers.gp.model import (
    GPPosterior,
    IncrementalFactor,
    fit_hyperparameters,
    neg_log_marginal_likelihood,
)

__all__ = [
    "ExpDecayResource", "Matern52", "Matern52ExpDecay",
    "GPPosterior", "IncrementalFactor", "fit_hyperparameters", "neg_log_marginal_likelihood",
]
