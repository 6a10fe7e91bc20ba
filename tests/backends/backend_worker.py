"""Runs every op and layer of keras_dlparts on one Keras backend.

Run as a subprocess, with KERAS_BACKEND set before Keras is imported:

    KERAS_BACKEND=tensorflow python backend_worker.py export DIR
    KERAS_BACKEND=jax        python backend_worker.py check DIR

`export` saves, for each case, the layer's weights and its outputs on fixed
inputs; `check` rebuilds each layer on the other backend, loads those
weights, compares the outputs, then trains the layer for a few steps in a
compiled `fit` (XLA under JAX) and checks the loss fell. It prints one JSON
object: case name -> "ok" or the reason it failed.
"""

import json
import os
import pathlib
import sys

import keras
import numpy as np

from keras_dlparts import layers, ops

RNG = np.random.default_rng(0)


def floats(*shape):
    return RNG.normal(size=shape).astype("float32")


def ids(*shape, high=10):
    return RNG.integers(1, high, size=shape).astype("int32")


def adjacency(n):
    a = (RNG.random((n, n)) < 0.4).astype("float32")
    return np.triu(a, 1) + np.triu(a, 1).T


def rnn(cell):
    return keras.layers.RNN(cell, return_sequences=True)


# name: (layer factory, inputs, call kwargs, trainable by fit)
LAYER_CASES = {
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(2, 4), (floats(4, 5, 6), floats(4, 7, 6)), {}, True),
    "MultiHeadAttention_additive": (lambda: layers.MultiHeadAttention(2, 4, score="additive"), (floats(4, 5, 6), floats(4, 7, 6)), {}, True),
    "MultiHeadAttention_cosine_causal": (lambda: layers.MultiHeadAttention(2, 4, score="cosine"), (floats(4, 5, 6), floats(4, 5, 6)), {"use_causal_mask": True}, True),
    "SinusoidalPositionalEncoding": (lambda: layers.SinusoidalPositionalEncoding(), (floats(4, 5, 6),), {}, False),
    "LearnedPositionalEmbedding": (lambda: layers.LearnedPositionalEmbedding(5), (floats(4, 5, 6),), {}, True),
    "TokenAndPositionEmbedding": (lambda: layers.TokenAndPositionEmbedding(10, 5, 6, mask_zero=True), (ids(4, 5),), {}, True),
    "TransformerEncoderBlock": (lambda: layers.TransformerEncoderBlock(2, 12), (floats(4, 5, 8),), {}, True),
    "TransformerDecoderBlock": (lambda: layers.TransformerDecoderBlock(2, 12), (floats(4, 5, 8), floats(4, 6, 8)), {}, True),
    "PatchEmbedding": (lambda: layers.PatchEmbedding(2, 6), (floats(4, 4, 4, 3),), {}, True),
    "ClassToken": (lambda: layers.ClassToken(), (floats(4, 5, 6),), {}, True),
    "LSTMCell": (lambda: rnn(layers.LSTMCell(5)), (floats(4, 6, 3),), {}, True),
    "LSTMCell_layer_norm_peephole": (lambda: rnn(layers.LSTMCell(5, layer_norm=True, peephole=True)), (floats(4, 6, 3),), {}, True),
    "ResidualBlock": (lambda: layers.ResidualBlock(4, strides=2), (floats(4, 8, 8, 3),), {}, True),
    "ResidualBlock_bottleneck": (lambda: layers.ResidualBlock(4, kind="bottleneck"), (floats(4, 8, 8, 3),), {}, True),
    "DenseBlock": (lambda: layers.DenseBlock(2, 4), (floats(4, 8, 8, 3),), {}, True),
    "TransitionLayer": (lambda: layers.TransitionLayer(0.5), (floats(4, 8, 8, 6),), {}, True),
    "GraphConvolution": (lambda: layers.GraphConvolution(4), (floats(4, 6, 3), np.stack([adjacency(6)] * 4)), {}, True),
    "Maxout": (lambda: layers.Maxout(3), (floats(4, 6),), {}, False),
    "RBF": (lambda: layers.RBF(5, gamma=0.5), (floats(4, 3),), {}, True),
    "SelfOrganizingMap": (lambda: layers.SelfOrganizingMap((3, 4)), (floats(4, 3),), {}, False),
    "Perceptron": (lambda: layers.Perceptron(3), (floats(4, 5),), {}, False),
    "ReparameterizationSampler": (lambda: layers.ReparameterizationSampler(seed=1), (floats(4, 3), floats(4, 3)), {}, False),
    "TimestepEmbedding": (lambda: layers.TimestepEmbedding(8), (ids(4, high=100),), {}, True),
    "SaltAndPepperNoise": (lambda: layers.SaltAndPepperNoise(0.1, seed=1), (np.abs(floats(4, 6, 6, 1)),), {}, False),
    "RandomTokenDeletion": (lambda: layers.RandomTokenDeletion(0.2, seed=1), (ids(4, 8),), {}, False),
    "RandomTokenSwap": (lambda: layers.RandomTokenSwap(0.2, seed=1), (ids(4, 8),), {}, False),
    "RandomTokenInsertion": (lambda: layers.RandomTokenInsertion(0.2, vocabulary_size=10, seed=1), (ids(4, 8),), {}, False),
    "RandomTimeShift": (lambda: layers.RandomTimeShift(0.1, seed=1), (floats(4, 64),), {}, False),
    "RandomGain": (lambda: layers.RandomGain(-6.0, 6.0, seed=1), (floats(4, 64),), {}, False),
    "AddBackgroundNoise": (lambda: layers.AddBackgroundNoise(10.0, 20.0, seed=1), (floats(4, 64),), {}, False),
    "RandomTimeStretch": (lambda: layers.RandomTimeStretch(0.8, 1.2, seed=1), (floats(4, 64),), {}, False),
    "RandomPitchShift": (lambda: layers.RandomPitchShift(-2.0, 2.0, seed=1), (floats(4, 64),), {}, False),
}

A, B, C = floats(2, 5, 4), floats(2, 6, 4), floats(2, 6, 3)
OP_CASES = {
    "sinusoidal_positional_encoding": lambda: ops.sinusoidal_positional_encoding(6, 8),
    "scaled_dot_product_attention": lambda: ops.scaled_dot_product_attention(
        A, B, C, mask=np.tril(np.ones((5, 6), bool))
    ),
    "gaussian_kl_divergence": lambda: ops.gaussian_kl_divergence(A[0], B[0, :5]),
    "rbf_kernel": lambda: ops.rbf_kernel(A[0], B[0], 0.5),
    "cosine_similarity": lambda: ops.cosine_similarity(A[0], B[1, :5]),
    "pairwise_squared_distance": lambda: ops.pairwise_squared_distance(A[0], B[0]),
}
TARGETS = np.random.default_rng(1)  # fit targets: separate from the inputs' draws


def to_numpy(structure):
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(structure)]


def run_layer(name):
    factory, inputs, call_kwargs, _ = LAYER_CASES[name]
    layer = factory()
    outputs = layer(*inputs, training=False, **call_kwargs) if _takes_training(layer) else layer(*inputs, **call_kwargs)
    return layer, to_numpy(outputs)


def _takes_training(layer):
    import inspect

    return "training" in inspect.signature(layer.call).parameters


def export(directory):
    for name in LAYER_CASES:
        layer, outputs = run_layer(name)
        save(directory / f"{name}.npz", layer.get_weights(), outputs)
    for name, fn in OP_CASES.items():
        save(directory / f"op_{name}.npz", [], to_numpy(fn()))


def save(path, weights, outputs):
    arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
    arrays.update({f"output_{i}": o for i, o in enumerate(outputs)})
    np.savez(path, **arrays)


def load(path):
    saved = np.load(path)
    weights = [saved[f"weight_{i}"] for i in range(sum(k.startswith("weight_") for k in saved.files))]
    outputs = [saved[f"output_{i}"] for i in range(sum(k.startswith("output_") for k in saved.files))]
    return weights, outputs


def fit_lowers_loss(name):
    factory, inputs, call_kwargs, _ = LAYER_CASES[name]
    symbolic = [keras.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    out = keras.tree.flatten(factory()(*symbolic, **call_kwargs))[0]
    model = keras.Model(symbolic, out)
    target = TARGETS.normal(size=(len(inputs[0]),) + tuple(out.shape[1:])).astype("float32")
    model.compile(keras.optimizers.Adam(0.01), "mse", jit_compile=True)
    x = list(inputs) if len(inputs) > 1 else inputs[0]
    before = model.evaluate(x, target, verbose=0)
    model.fit(x, target, epochs=5, batch_size=len(target), verbose=0)
    after = model.evaluate(x, target, verbose=0)
    if not after < before:
        raise AssertionError(f"fit did not lower the loss ({before} -> {after})")


def check(directory):
    report = {}
    for name, (_, _, _, trainable) in LAYER_CASES.items():
        try:
            weights, expected = load(directory / f"{name}.npz")
            layer, _ = run_layer(name)
            layer.set_weights(weights)
            _, outputs = run_layer_with(layer, name)
            assert len(outputs) == len(expected), (len(outputs), len(expected))
            for got, want in zip(outputs, expected):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
            if trainable:
                fit_lowers_loss(name)
            report[name] = "ok"
        except Exception as error:  # noqa: BLE001 - reported per case
            report[name] = f"{type(error).__name__}: {error}"[:500]
    for name, fn in OP_CASES.items():
        try:
            _, expected = load(directory / f"op_{name}.npz")
            for got, want in zip(to_numpy(fn()), expected):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
            report[f"op_{name}"] = "ok"
        except Exception as error:  # noqa: BLE001
            report[f"op_{name}"] = f"{type(error).__name__}: {error}"[:500]
    return report


def run_layer_with(layer, name):
    _, inputs, call_kwargs, _ = LAYER_CASES[name]
    if _takes_training(layer):
        outputs = layer(*inputs, training=False, **call_kwargs)
    else:
        outputs = layer(*inputs, **call_kwargs)
    return layer, to_numpy(outputs)


def main():
    mode, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    keras.utils.set_random_seed(0)
    if mode == "export":
        export(directory)
        print(json.dumps({"backend": keras.backend.backend()}))
    else:
        print(json.dumps({"backend": keras.backend.backend(), "cases": check(directory)}))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
