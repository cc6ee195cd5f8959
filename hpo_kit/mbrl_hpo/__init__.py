"""Model-based RL HPO (Wu, Chen, Liu, Neurocomputing 409, 2020): notebook 02's package.

* :mod:`~hpo_kit.mbrl_hpo.agent` -- RL-SDP (LSTM) and RL-DOC (one-step) policies, tanh-Gaussian
  sampling, rescaling to the space, PPO (one readable file).
* :mod:`~hpo_kit.mbrl_hpo.reward_model` -- the learned reward model F and the policy distance (swappable).
* :mod:`~hpo_kit.mbrl_hpo.searcher` -- the agent as a searcher of the kit's engine, with model phases.
* :mod:`~hpo_kit.mbrl_hpo.experiment` -- the runs of experiments (a)-(e) and their frames.
* :mod:`~hpo_kit.mbrl_hpo.claims` -- the paper's claims decided from those frames.
* :mod:`~hpo_kit.mbrl_hpo.quirks` -- what the paper leaves open and the kit's named defaults.
* :mod:`~hpo_kit.mbrl_hpo.parameters` -- contradictions between the notebook's parameters.
"""
from hpo_kit.mbrl_hpo.agent import Agent, AgentConfig
from hpo_kit.mbrl_hpo.quirks import QUIRKS
from hpo_kit.mbrl_hpo.searcher import XGB_ORDERS, MBRLSearcher, ModelConfig

__all__ = ["Agent", "AgentConfig", "MBRLSearcher", "ModelConfig", "QUIRKS", "XGB_ORDERS"]
