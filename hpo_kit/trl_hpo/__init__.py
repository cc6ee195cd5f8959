"""TRL-HPO (Shaer, Nikan, Shami 2024): a transformer actor-critic that builds CNNs layer by layer.

Modules, each with one job:

* :mod:`~hpo_kit.trl_hpo.actions` -- 4 numbers in [0, 1] -> one hidden layer (both index mappings).
* :mod:`~hpo_kit.trl_hpo.cache` -- per-method evaluation cache (JSON lines) and budget clock.
* :mod:`~hpo_kit.trl_hpo.environment` -- the layer-wise environment: validity, prefix training, rewards.
* :mod:`~hpo_kit.trl_hpo.model` -- the transformer actor and critic with visible attention.
* :mod:`~hpo_kit.trl_hpo.agent` -- the deterministic actor-critic and its training loop.
* :mod:`~hpo_kit.trl_hpo.baselines` -- random search, an LSTM REINFORCE controller, MetaQNN.
* :mod:`~hpo_kit.trl_hpo.compare` -- every method at the same wall-clock budget, and retraining.
* :mod:`~hpo_kit.trl_hpo.analysis` -- steps, layer pairs, attention frames, best networks.
* :mod:`~hpo_kit.trl_hpo.claims` -- the paper's claims decided from those frames (hpo_kit.claims).
"""
from hpo_kit.trl_hpo.actions import decode_action, describe_architecture, describe_layer
from hpo_kit.trl_hpo.agent import QUIRKS, TRLConfig, run_trl_hpo
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv

__all__ = ["EnvConfig", "LayerwiseCNNEnv", "QUIRKS", "TRLConfig", "decode_action", "describe_architecture",
           "describe_layer", "run_trl_hpo"]
