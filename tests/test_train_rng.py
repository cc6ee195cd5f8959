"""Stochastic layers draw from each training's own generator: trainings in threads equal sequential ones."""
from __future__ import annotations

import threading

import torch
from torch import nn

from hpo_kit.train import TrainSettings, build_network, synthetic_splits, train
from hpo_kit.train.rng import TrialDropout, current_generator, lend_generator, training_generator

MLP = [{"type": "fc", "units": 64, "dropout": 0.5}, {"type": "dropout", "p": 0.3}]


def test_trial_dropout_draws_what_nn_dropout_draws_under_the_same_seed():
    x = torch.randn(32, 50)
    torch.manual_seed(3)
    expected = nn.Dropout(0.4).train()(x)
    with training_generator(torch.Generator().manual_seed(3)):
        got = TrialDropout(0.4).train()(x)
    assert torch.equal(expected, got)                # sequential results are unchanged
    assert current_generator() is None
    assert torch.equal(TrialDropout(0.4).eval()(x), x)


def test_a_model_with_a_generator_attribute_borrows_the_training_generator():
    class Shaky(nn.Linear):
        generator = None

    model, generator = Shaky(2, 2), torch.Generator()
    with lend_generator(model, generator):
        assert model.generator is generator
    assert model.generator is None


def _train(seed: int, splits, out: dict, barrier: threading.Barrier | None = None) -> None:
    model = build_network(MLP, input_shape=(1, 28, 28), seed=seed)
    if barrier is not None:
        barrier.wait()                                # both trainings run at the same time
    result = train(model, splits, TrainSettings(batch_size=10, max_epochs=2), epochs=2, seed=seed,
                   limit_threads=False)
    out[seed] = [p.detach().clone() for p in result.model.parameters()]


def test_trainings_in_threads_of_one_process_equal_sequential_ones():
    splits = synthetic_splits(n_train=400, n_val=50, n_test=20, seed=0, noise=3.0)
    sequential: dict = {}
    for seed in (1, 2):
        _train(seed, splits, sequential)
    parallel: dict = {}
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_train, args=(seed, splits, parallel, barrier)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed in (1, 2):
        assert all(torch.equal(a, b) for a, b in zip(sequential[seed], parallel[seed])), seed
