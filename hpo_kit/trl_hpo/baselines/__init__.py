"""Baselines that build CNNs in the same layer-wise environment as TRL-HPO.

* :mod:`random_search` -- uniform random actions (the same 4-number action space, the same decoding).
* :mod:`lstm_controller` -- a recurrent controller trained with REINFORCE and a moving-average
  baseline (Zoph & Le 2017 style), the recurrent approach TRL-HPO positions itself against.
* :mod:`metaqnn` -- epsilon-greedy tabular Q-learning over layer choices (Baker et al. 2017 style).

Every runner takes an environment of its own (own cache, own clock) and a seed, and stops at its
episode limit or when the environment's time budget is used up.
"""
from hpo_kit.trl_hpo.baselines.lstm_controller import LSTMControllerConfig, run_lstm_controller
from hpo_kit.trl_hpo.baselines.metaqnn import MetaQNNConfig, run_metaqnn
from hpo_kit.trl_hpo.baselines.random_search import RandomSearchConfig, run_random_search

__all__ = ["LSTMControllerConfig", "MetaQNNConfig", "RandomSearchConfig", "run_lstm_controller", "run_metaqnn",
           "run_random_search"]
