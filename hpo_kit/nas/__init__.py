"""Joint neural-architecture and hyperparameter search (Zela et al. 2018): the network family and its space."""
from hpo_kit.nas.joint_space import (
    HYPERPARAMETER_NAMES,
    SCALES,
    JointSpaceScale,
    check_config,
    config_to_model_and_settings,
    config_to_spec,
    config_to_train_settings,
    joint_space,
    resolve_scale,
    with_scale,
)
from hpo_kit.nas.resnet_shake import ShakeResNet, ShakeResNetSpec, shake_drop, shake_shake

__all__ = [
    "HYPERPARAMETER_NAMES", "SCALES", "JointSpaceScale", "ShakeResNet", "ShakeResNetSpec", "check_config",
    "config_to_model_and_settings", "config_to_spec", "config_to_train_settings", "joint_space", "resolve_scale",
    "shake_drop", "shake_shake", "with_scale",
]
