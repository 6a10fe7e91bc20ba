"""Runs every public part of keras_dlparts on one Keras backend.

Run as a subprocess, with KERAS_BACKEND set before Keras is imported:

    KERAS_BACKEND=tensorflow python backend_worker.py export DIR
    KERAS_BACKEND=jax        python backend_worker.py check DIR

`export` computes, on fixed inputs, and saves one `.npz` file per case:

- op: the outputs;
- layer: the layer's weights and its outputs; and, for a layer with
  trainable weights, one SGD `train_on_batch` of a small model around it:
  the model's initial weights, the batch's target, the loss and the
  weights after the step;
- loss: the value and its gradient with respect to `y_pred`;
- metric: `result()` after two `update_state` calls;
- optimizer: the variables after a few steps of fixed gradients.

`check` recomputes each case on the other backend from the exported
weights and compares everything to `TOLERANCE`; a layer that learns by
gradient then trains for a few more steps in the same XLA-compiled `fit`,
which must lower its loss. It prints one JSON object: "kind:case" ->
"ok" or the reason it failed.
"""

import functools
import inspect
import json
import os
import pathlib
import sys

import keras
import numpy as np

from keras_dlparts import layers
from keras_dlparts import losses
from keras_dlparts import metrics
from keras_dlparts import ops
from keras_dlparts import optimizers
from keras_dlparts._autodiff import value_and_gradients

# float32 on both backends: equal to 1e-5, relative, or absolute on the
# scale of the array's largest entry (at least 1): an entry that is a sum
# of terms as large as that (a convolution's gradient) carries their
# rounding error, not its own (PerceptualLoss's gradient: entries to 20,
# one entry 0.54 differed by 2e-5 in one run).
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
LEARNING_RATE = 0.05  # SGD, for the training step and the fit that follows
FIT_STEPS = 5

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


# name: (layer factory, inputs, call kwargs, learns by gradient)
# A case whose layer has trainable weights also gets the training step;
# "learns" adds the check that a few more steps lower the loss.
LAYER_CASES = {
    "MultiHeadAttention": (
        lambda: layers.MultiHeadAttention(2, 4),
        (floats(4, 5, 6), floats(4, 7, 6)),
        {},
        True,
    ),
    "MultiHeadAttention_additive": (
        lambda: layers.MultiHeadAttention(2, 4, score="additive"),
        (floats(4, 5, 6), floats(4, 7, 6)),
        {},
        True,
    ),
    "MultiHeadAttention_cosine_causal": (
        lambda: layers.MultiHeadAttention(2, 4, score="cosine"),
        (floats(4, 5, 6), floats(4, 5, 6)),
        {"use_causal_mask": True},
        True,
    ),
    "SinusoidalPositionalEncoding": (
        lambda: layers.SinusoidalPositionalEncoding(),
        (floats(4, 5, 6),),
        {},
        False,
    ),
    "LearnedPositionalEmbedding": (
        lambda: layers.LearnedPositionalEmbedding(5),
        (floats(4, 5, 6),),
        {},
        True,
    ),
    "TokenAndPositionEmbedding": (
        lambda: layers.TokenAndPositionEmbedding(10, 5, 6, mask_zero=True),
        (ids(4, 5),),
        {},
        True,
    ),
    "TransformerEncoderBlock": (
        lambda: layers.TransformerEncoderBlock(2, 12),
        (floats(4, 5, 8),),
        {},
        True,
    ),
    "TransformerDecoderBlock": (
        lambda: layers.TransformerDecoderBlock(2, 12),
        (floats(4, 5, 8), floats(4, 6, 8)),
        {},
        True,
    ),
    "PatchEmbedding": (
        lambda: layers.PatchEmbedding(2, 6),
        (floats(4, 4, 4, 3),),
        {},
        True,
    ),
    "ClassToken": (lambda: layers.ClassToken(), (floats(4, 5, 6),), {}, True),
    "LSTMCell": (lambda: rnn(layers.LSTMCell(5)), (floats(4, 6, 3),), {}, True),
    "LSTMCell_layer_norm_peephole": (
        lambda: rnn(layers.LSTMCell(5, layer_norm=True, peephole=True)),
        (floats(4, 6, 3),),
        {},
        True,
    ),
    "ResidualBlock": (
        lambda: layers.ResidualBlock(4, strides=2),
        (floats(4, 8, 8, 3),),
        {},
        True,
    ),
    "ResidualBlock_bottleneck": (
        lambda: layers.ResidualBlock(4, kind="bottleneck"),
        (floats(4, 8, 8, 3),),
        {},
        True,
    ),
    "DenseBlock": (
        lambda: layers.DenseBlock(2, 4),
        (floats(4, 8, 8, 3),),
        {},
        True,
    ),
    "TransitionLayer": (
        lambda: layers.TransitionLayer(0.5),
        (floats(4, 8, 8, 6),),
        {},
        True,
    ),
    "GraphConvolution": (
        lambda: layers.GraphConvolution(4),
        (floats(4, 6, 3), np.stack([adjacency(6)] * 4)),
        {},
        True,
    ),
    "AngularMarginHead": (
        lambda: layers.AngularMarginHead(5, margin=0.3, scale=4.0),
        (floats(4, 6), ids(4, high=5)),
        {},
        True,
    ),
    "Maxout": (lambda: layers.Maxout(3), (floats(4, 6),), {}, False),
    "PixelShuffle": (
        lambda: layers.PixelShuffle(2),
        (floats(2, 3, 4, 8),),
        {},
        False,
    ),
    "PixelUnshuffle_channels_first": (
        lambda: layers.PixelUnshuffle(2, "channels_first"),
        (floats(2, 3, 4, 6),),
        {},
        False,
    ),
    "MinibatchStdDev": (
        lambda: layers.MinibatchStdDev(group_size=2),
        (floats(4, 3, 3, 2),),
        {},
        False,
    ),
    "CRF": (lambda: layers.CRF(3), (floats(4, 5, 6),), {}, True),
    "WeightNormalization": (
        lambda: layers.WeightNormalization(keras.layers.Dense(3)),
        (floats(4, 6),),
        {},
        True,
    ),
    "WeightNormalization_conv": (
        lambda: layers.WeightNormalization(
            keras.layers.Conv2D(2, 3, padding="same"), data_init=False
        ),
        (floats(4, 5, 5, 2),),
        {},
        True,
    ),
    "MultiHeadAttention_memory_efficient": (
        lambda: layers.MultiHeadAttention(
            2, 4, memory_efficient=True, query_chunk_size=2, key_chunk_size=3
        ),
        (floats(4, 5, 6), floats(4, 7, 6)),
        {"use_causal_mask": True},
        True,
    ),
    "RBF": (lambda: layers.RBF(5, gamma=0.5), (floats(4, 3),), {}, True),
    "SelfOrganizingMap": (
        lambda: layers.SelfOrganizingMap((3, 4)),
        (floats(4, 3),),
        {},
        False,
    ),
    "Perceptron": (lambda: layers.Perceptron(3), (floats(4, 5),), {}, False),
    "ReparameterizationSampler": (
        lambda: layers.ReparameterizationSampler(seed=1),
        (floats(4, 3), floats(4, 3)),
        {},
        False,
    ),
    "TimestepEmbedding": (
        lambda: layers.TimestepEmbedding(8),
        (ids(4, high=100),),
        {},
        True,
    ),
    "SaltAndPepperNoise": (
        lambda: layers.SaltAndPepperNoise(0.1, seed=1),
        (np.abs(floats(4, 6, 6, 1)),),
        {},
        False,
    ),
    "RandomTokenDeletion": (
        lambda: layers.RandomTokenDeletion(0.2, seed=1),
        (ids(4, 8),),
        {},
        False,
    ),
    "RandomTokenSwap": (
        lambda: layers.RandomTokenSwap(0.2, seed=1),
        (ids(4, 8),),
        {},
        False,
    ),
    "RandomTokenInsertion": (
        lambda: layers.RandomTokenInsertion(0.2, vocabulary_size=10, seed=1),
        (ids(4, 8),),
        {},
        False,
    ),
    "RandomTimeShift": (
        lambda: layers.RandomTimeShift(0.1, seed=1),
        (floats(4, 64),),
        {},
        False,
    ),
    "RandomGain": (
        lambda: layers.RandomGain(-6.0, 6.0, seed=1),
        (floats(4, 64),),
        {},
        False,
    ),
    "AddBackgroundNoise": (
        lambda: layers.AddBackgroundNoise(10.0, 20.0, seed=1),
        (floats(4, 64),),
        {},
        False,
    ),
    "RandomTimeStretch": (
        lambda: layers.RandomTimeStretch(0.8, 1.2, seed=1),
        (floats(4, 64),),
        {},
        False,
    ),
    "RandomPitchShift": (
        lambda: layers.RandomPitchShift(-2.0, 2.0, seed=1),
        (floats(4, 64),),
        {},
        False,
    ),
}

A, B, C = floats(2, 5, 4), floats(2, 6, 4), floats(2, 6, 3)
TAGS, CHAIN = RNG.integers(0, 4, size=(2, 5)), floats(4, 4)  # a CRF, 4 tags
# Two batches of two 9 x 8 RGB images in [0, 1]: image quality.
IMAGES = np.random.default_rng(8).random((2, 2, 9, 8, 3)).astype("float32")
OP_CASES = {
    "sinusoidal_positional_encoding": lambda: (
        ops.sinusoidal_positional_encoding(6, 8)
    ),
    "scaled_dot_product_attention": lambda: ops.scaled_dot_product_attention(
        A, B, C, mask=np.tril(np.ones((5, 6), bool))
    ),
    "gaussian_kl_divergence": lambda: ops.gaussian_kl_divergence(
        A[0], B[0, :5]
    ),
    "rbf_kernel": lambda: ops.rbf_kernel(A[0], B[0], 0.5),
    "cosine_similarity": lambda: ops.cosine_similarity(A[0], B[1, :5]),
    "pairwise_squared_distance": lambda: ops.pairwise_squared_distance(
        A[0], B[0]
    ),
    "memory_efficient_attention": lambda: ops.memory_efficient_attention(
        A[:, :, None],
        B[:, :, None],
        C[:, :, None],
        is_causal=True,
        query_chunk_size=2,
        key_chunk_size=4,
    ),
    "crf_log_likelihood": lambda: ops.crf_log_likelihood(
        A, TAGS, np.array([5, 3]), CHAIN
    ),
    "viterbi_decode": lambda: ops.viterbi_decode(
        A, CHAIN, np.arange(5)[None] < np.array([[5], [3]])
    ),
    "psnr": lambda: ops.psnr(IMAGES[0], IMAGES[1], max_val=2.0),
    "ssim": lambda: ops.ssim(IMAGES[0], IMAGES[1], filter_size=7),
    "frechet_distance": lambda: ops.frechet_distance(A[0], B[0] * 2.0),
}

LABELS = np.array([0, 0, 1, 1, 2, 2, 0, 1])
EMBEDDINGS = floats(8, 4)
EMBEDDINGS[1] = EMBEDDINGS[0]  # coincident: the safe square root
PAIR_LABELS = RNG.integers(0, 2, size=(8, 1)).astype("float32")
DISTANCES = np.abs(floats(8, 1))
SIMILARITIES = RNG.uniform(-1, 1, size=(6, 6)).astype("float32")
REAL, FAKE = 2 * floats(8, 1), 2 * floats(8, 1)
Y_TRUE, Y_PRED = floats(6, 3), floats(6, 3)


def _perceptual_loss():
    """PerceptualLoss over a two-convolution network of fixed weights (the
    same on both backends)."""
    rng = np.random.default_rng(9)
    inputs = keras.Input((6, 6, 2))
    first = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    second = keras.layers.Conv2D(2, 3, strides=2, name="c2")(first)
    net = keras.Model(inputs, second)
    net.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in net.weights]
    )
    return losses.PerceptualLoss(net, ["c1", "c2"], [0.5, 2.0])


# name: (loss factory, y_true, y_pred)
LOSS_CASES = {
    "PerceptualLoss": (
        _perceptual_loss,
        np.random.default_rng(10).random((3, 6, 6, 2)).astype("float32"),
        np.random.default_rng(11).random((3, 6, 6, 2)).astype("float32"),
    ),
    "CLIPLoss": (lambda: losses.CLIPLoss(), np.zeros(6), 10 * SIMILARITIES),
    "CLIPLoss_temperature": (
        lambda: losses.CLIPLoss(temperature=0.07),
        np.zeros(6),
        SIMILARITIES,
    ),
    "ContrastiveLoss": (
        lambda: losses.ContrastiveLoss(margin=1.5),
        PAIR_LABELS,
        DISTANCES,
    ),
    "MultiSimilarityLoss": (
        lambda: losses.MultiSimilarityLoss(beta=10.0, epsilon=0.3),
        LABELS,
        EMBEDDINGS,
    ),
    "RobustLoss": (
        lambda: losses.RobustLoss(alpha=0.5, scale=2.0),
        Y_TRUE,
        Y_PRED,
    ),
    "RobustLoss_cauchy": (
        lambda: losses.RobustLoss(alpha=0.0, scale=0.7),
        Y_TRUE,
        Y_PRED,
    ),
    "RobustLoss_near_l2": (
        lambda: losses.RobustLoss(alpha=2 - 1e-6),
        Y_TRUE,
        Y_PRED,
    ),
    "NPairsLoss": (
        lambda: losses.NPairsLoss(l2_regularization=0.05),
        LABELS[:4],
        EMBEDDINGS.reshape(4, 2, 4),
    ),
    "NTXentLoss": (
        lambda: losses.NTXentLoss(temperature=0.3),
        np.zeros(4),
        EMBEDDINGS.reshape(4, 2, 4),
    ),
    "SupervisedContrastiveLoss": (
        lambda: losses.SupervisedContrastiveLoss(temperature=0.2),
        LABELS[:4],
        EMBEDDINGS.reshape(4, 2, 4),
    ),
    "CRFLoss": (
        lambda: losses.CRFLoss(),
        RNG.integers(0, 3, size=(2, 4)),
        floats(2, 4, 3, 3),
    ),
    "RobustLoss_welsch": (
        lambda: losses.RobustLoss(alpha=-float("inf")),
        Y_TRUE,
        Y_PRED,
    ),
    **{
        f"GAN{role}Loss_{kind}": (
            functools.partial(getattr(losses, f"GAN{role}Loss"), kind),
            REAL,
            FAKE,
        )
        for role in ("Discriminator", "Generator")
        for kind in ("minimax", "non_saturating", "hinge", "least_squares")
    },
    **{
        f"TripletLoss_{mining}_{distance}": (
            (
                lambda m, d: (
                    lambda: losses.TripletLoss(margin=0.5, mining=m, distance=d)
                )
            )(mining, distance),
            LABELS,
            EMBEDDINGS,
        )
        for mining in ("semi_hard", "batch_hard", "batch_all")
        for distance in ("l2", "squared_l2", "cosine")
    },
}


def _token_batches(seed, refs=1):
    """Two batches of padded (reference, candidate) ids that share n-grams."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(2):
        ref = rng.integers(1, 6, size=(4, refs, 10)).astype("int32")
        cand = np.where(
            rng.random((4, 10)) < 0.6,
            ref[:, 0],
            rng.integers(1, 6, size=(4, 10)),
        ).astype("int32")
        for row, length in enumerate(rng.integers(3, 11, size=4)):
            cand[row, length:] = 0
            ref[row, :, rng.integers(2, 11) :] = 0
        batches.append((ref[:, 0] if refs == 1 else ref, cand))
    return batches


# name: (metric factory, [(y_true, y_pred, sample_weight), ...])
METRIC_CASES = {
    "BLEU": (
        lambda: metrics.BLEU(),
        [(r, c, None) for r, c in _token_batches(1)],
    ),
    "BLEU_smooth_references": (
        lambda: metrics.BLEU(max_order=3, smooth=True),
        [(r, c, None) for r, c in _token_batches(2, refs=2)],
    ),
    "CohenKappa_quadratic": (
        lambda: metrics.CohenKappa(4, "quadratic", sparse_labels=True),
        [
            (rng.integers(0, 4, 8), rng.normal(size=(8, 4)), rng.random(8))
            for rng in [np.random.default_rng(5)] * 2
        ],
    ),
    "KendallsTau": (
        lambda: metrics.KendallsTau(max_samples=12),
        [
            (rng.normal(size=(5, 1)), rng.normal(size=5), rng.random(5))
            for rng in [np.random.default_rng(7)] * 3
        ],
    ),
    "MatthewsCorrelationCoefficient": (
        lambda: metrics.MatthewsCorrelationCoefficient(3),
        [
            (np.eye(3)[rng.integers(0, 3, 8)], rng.normal(size=(8, 3)), None)
            for rng in [np.random.default_rng(6)] * 2
        ],
    ),
    "PSNR": (
        lambda: metrics.PSNR(max_val=2.0),
        [
            (IMAGES[0], IMAGES[1], np.array([0.5, 2.0])),
            (IMAGES[1], IMAGES[0] ** 2, None),
        ],
    ),
    "SSIM": (
        lambda: metrics.SSIM(filter_size=5, filter_sigma=1.0, k2=0.05),
        [
            (IMAGES[0], IMAGES[1], np.array([0.5, 2.0])),
            (IMAGES[1], IMAGES[0] ** 2, None),
        ],
    ),
    "ROUGE": (
        lambda: metrics.ROUGE("n", 2),
        [(r, c, np.array([1.0, 2.0, 0.5, 1.0])) for r, c in _token_batches(3)],
    ),
    "ROUGE_l_recall": (
        lambda: metrics.ROUGE("l", score="recall"),
        [(r, c, None) for r, c in _token_batches(4)],
    ),
}

# name: (optimizer factory, steps)
OPTIMIZER_CASES = {
    "AddSign": (lambda: optimizers.AddSign(learning_rate=0.1), 4),
    "AddSign_decay": (
        lambda: optimizers.AddSign(
            learning_rate=0.1, decay_steps=3, weight_decay=0.01
        ),
        4,
    ),
    "PowerSign": (lambda: optimizers.PowerSign(learning_rate=0.1), 4),
    "PowerSign_decay": (
        lambda: optimizers.PowerSign(learning_rate=0.1, decay_steps=3),
        4,
    ),
    "RAdam": (
        lambda: optimizers.RAdam(learning_rate=0.01),
        8,
    ),  # rectified from step 6
    "Lookahead": (
        lambda: optimizers.Lookahead(
            keras.optimizers.SGD(0.1, momentum=0.9), sync_period=2
        ),
        5,
    ),
    "Yogi": (lambda: optimizers.Yogi(learning_rate=0.05), 4),
    "NovoGrad": (
        lambda: optimizers.NovoGrad(learning_rate=0.05, weight_decay=0.01),
        4,
    ),
    "LazyAdam": (lambda: optimizers.LazyAdam(learning_rate=0.05), 4),
    "SWA": (
        lambda: optimizers.SWA(
            keras.optimizers.SGD(0.1), start_averaging=1, average_period=2
        ),
        5,
    ),
    # MultiOptimizer groups layers: it gets the layers holding the variables.
    "MultiOptimizer": (
        lambda holders: optimizers.MultiOptimizer(
            [
                (keras.optimizers.SGD(0.1), holders[:1]),
                (optimizers.RAdam(0.01), holders[1:]),
            ]
        ),
        4,
    ),
    "Lookahead_radam": (
        lambda: optimizers.Lookahead(
            optimizers.RAdam(0.01), sync_period=3, slow_step_size=0.3
        ),
        7,
    ),
}
OPTIMIZER_START = [floats(3, 4), floats(4)]


def optimizer_gradients(steps):
    rng = np.random.default_rng(steps)
    return [
        [rng.normal(size=v.shape).astype("float32") for v in OPTIMIZER_START]
        for _ in range(steps)
    ]


# ---- computing each kind of case -----------------------------------------


def to_numpy(structure):
    return [
        np.asarray(keras.ops.convert_to_numpy(t))
        for t in keras.tree.flatten(structure)
    ]


def compiled(fn):
    """`fn` under `jax.jit` on JAX, which compiles each eager op on its
    own (one compilation instead of dozens); as it is on TensorFlow, whose
    eager ops are fast."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def values(variables):
    return [v.value for v in variables]


def build_layer(name):
    """The case's layer, built on symbolic inputs (no computation)."""
    factory, inputs, call_kwargs, _ = LAYER_CASES[name]
    layer = factory()
    layer(
        *[
            keras.Input(x.shape[1:], batch_size=len(x), dtype=str(x.dtype))
            for x in inputs
        ],
        **call_kwargs,
    )
    return layer


def layer_outputs(layer, name):
    """The layer's outputs in inference mode (`training=False`)."""
    _, inputs, call_kwargs, _ = LAYER_CASES[name]
    if "training" in inspect.signature(layer.call).parameters:
        call_kwargs = {**call_kwargs, "training": False}

    def forward(trainable, non_trainable, *inputs):
        outputs, _ = layer.stateless_call(
            trainable, non_trainable, *inputs, **call_kwargs
        )
        return outputs

    return to_numpy(
        compiled(forward)(
            values(layer.trainable_variables),
            values(layer.non_trainable_variables),
            *inputs,
        )
    )


def layer_model(name):
    """A small model: the case's inputs -> the layer -> its first output."""
    factory, inputs, call_kwargs, _ = LAYER_CASES[name]
    symbolic = [keras.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    out = keras.tree.flatten(factory()(*symbolic, **call_kwargs))[0]
    model = keras.Model(symbolic, out)
    x = list(inputs) if len(inputs) > 1 else inputs[0]
    return model, x


def compile_sgd(model, **kwargs):
    model.compile(keras.optimizers.SGD(LEARNING_RATE), "mse", **kwargs)


def loss_value_and_gradient(name):
    factory, y_true, y_pred = LOSS_CASES[name]
    loss = factory()
    variable = keras.Variable(y_pred)

    def value_and_gradient():
        (value, _), (gradient,) = value_and_gradients(
            lambda: (loss(y_true, variable), None), [variable]
        )
        return value, gradient

    return to_numpy(compiled(value_and_gradient)())


def metric_result(name):
    factory, updates = METRIC_CASES[name]
    metric = factory()
    update = compiled(metric.stateless_update_state)
    state = values(metric.variables)
    for y_true, y_pred, sample_weight in updates:
        state = update(state, y_true, y_pred, sample_weight=sample_weight)
    return to_numpy(compiled(metric.stateless_result)(state))


class _Holder(keras.layers.Layer):
    """A layer holding one variable (MultiOptimizer groups layers)."""

    def __init__(self, value):
        super().__init__()
        self.value = self.add_weight(
            shape=value.shape, initializer=keras.initializers.Constant(value)
        )


def optimizer_variables(name):
    factory, steps = OPTIMIZER_CASES[name]
    holders = [_Holder(v) for v in OPTIMIZER_START]
    takes_layers = inspect.signature(factory).parameters
    optimizer = factory(holders) if takes_layers else factory()
    variables = [holder.value for holder in holders]
    for grads in optimizer_gradients(steps):
        optimizer.apply(
            [keras.ops.convert_to_tensor(g) for g in grads], variables
        )
    return to_numpy(variables)


# ---- export (TensorFlow) and check (JAX) -----------------------------------


def save(path, **groups):
    arrays = {}
    for group, values in groups.items():
        arrays.update({f"{group}_{i}": v for i, v in enumerate(values)})
    np.savez(path, **arrays)


def load(path):
    saved = np.load(path)
    groups = {}
    for key in saved.files:
        group, index = key.rsplit("_", 1)
        groups.setdefault(group, {})[int(index)] = saved[key]
    return {g: [v[i] for i in range(len(v))] for g, v in groups.items()}


def export(directory):
    targets = np.random.default_rng(1)  # the training targets
    for name in LAYER_CASES:
        layer = build_layer(name)
        outputs = layer_outputs(layer, name)
        save(
            directory / f"layer_{name}.npz",
            weight=layer.get_weights(),
            output=outputs,
        )
        model, x = layer_model(name)
        if not model.trainable_weights:
            continue
        target = targets.normal(
            size=(len(keras.tree.flatten(x)[0]),)
            + tuple(model.output.shape[1:])
        ).astype("float32")
        initial = model.get_weights()
        compile_sgd(model, run_eagerly=True)  # one eager step: no tracing
        loss = model.train_on_batch(x, target)
        save(
            directory / f"train_{name}.npz",
            initial=initial,
            target=[target],
            loss=[np.float32(loss)],
            weight=model.get_weights(),
        )
    for name, fn in OP_CASES.items():
        save(directory / f"op_{name}.npz", output=to_numpy(fn()))
    for name in LOSS_CASES:
        save(
            directory / f"loss_{name}.npz", output=loss_value_and_gradient(name)
        )
    for name in METRIC_CASES:
        save(directory / f"metric_{name}.npz", output=metric_result(name))
    for name in OPTIMIZER_CASES:
        save(
            directory / f"optimizer_{name}.npz",
            output=optimizer_variables(name),
        )


def assert_all_close(got, want, what):
    assert len(got) == len(want), (
        f"{what}: {len(got)} arrays, expected {len(want)}"
    )
    for i, (g, w) in enumerate(zip(got, want)):
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        np.testing.assert_allclose(
            g,
            w,
            rtol=TOLERANCE["rtol"],
            atol=TOLERANCE["atol"] * scale,
            err_msg=f"{what} {i}",
        )


def check_layer(directory, name):
    saved = load(directory / f"layer_{name}.npz")
    layer = build_layer(name)
    layer.set_weights(saved.get("weight", []))
    assert_all_close(layer_outputs(layer, name), saved["output"], "output")


def check_training_step(directory, name):
    """One SGD step from TensorFlow's initial weights: the same loss and
    the same weights; then, for a layer that learns, `FIT_STEPS` more steps
    of the same compiled function lower the loss."""
    model, x = layer_model(name)
    path = directory / f"train_{name}.npz"
    if not path.exists():
        raise AssertionError(
            f"the model has {len(model.trainable_weights)} trainable weights "
            "but TensorFlow exported no training step"
        )
    saved = load(path)
    model.set_weights(saved["initial"])
    compile_sgd(model, jit_compile=True)
    (target,) = saved["target"]
    loss = model.train_on_batch(x, target)
    assert_all_close([np.float32(loss)], saved["loss"], "loss of the step")
    assert_all_close(
        model.get_weights(), saved["weight"], "weight after the step"
    )
    if LAYER_CASES[name][3]:
        history = model.fit(
            x, target, epochs=FIT_STEPS, batch_size=len(target), verbose=0
        )
        if not history.history["loss"][-1] < loss:
            raise AssertionError(
                "fit did not lower the loss "
                f"({loss} -> {history.history['loss']})"
            )


def check(directory):
    report = {}

    def run(key, fn, *args):
        try:
            fn(*args)
            report[key] = "ok"
        except Exception as error:  # noqa: BLE001 - reported per case
            report[key] = f"{type(error).__name__}: {error}"[:800]

    def compare(kind, compute):
        def fn(name):
            saved = load(directory / f"{kind}_{name}.npz")
            assert_all_close(compute(name), saved["output"], kind)

        return fn

    for name in LAYER_CASES:
        run(f"layer:{name}", check_layer, directory, name)
        if (directory / f"train_{name}.npz").exists() or layer_model(name)[
            0
        ].trainable_weights:
            run(f"train:{name}", check_training_step, directory, name)
    compare_op = compare("op", lambda name: to_numpy(OP_CASES[name]()))
    for name in OP_CASES:
        run(f"op:{name}", compare_op, name)
    for name in LOSS_CASES:
        run(f"loss:{name}", compare("loss", loss_value_and_gradient), name)
    for name in METRIC_CASES:
        run(f"metric:{name}", compare("metric", metric_result), name)
    for name in OPTIMIZER_CASES:
        run(
            f"optimizer:{name}", compare("optimizer", optimizer_variables), name
        )
    return report


def main():
    mode, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    keras.utils.set_random_seed(0)
    if mode == "export":
        export(directory)
        print(json.dumps({"backend": keras.backend.backend()}))
    else:
        print(
            json.dumps(
                {"backend": keras.backend.backend(), "cases": check(directory)}
            )
        )


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
