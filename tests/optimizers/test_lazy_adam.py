import keras
import numpy as np
import pytest
from optimizers.test_lookahead import keras_adam_step
from support.optimizer_training import KERAS_ARGUMENT_CASES
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import LazyAdam
from keras_dlparts.testing import check_optimizer

on_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="sparse (IndexedSlices) gradients exist on TensorFlow only",
)
EXACT = dict(learning_rate=0.0625, beta_1=0.875, beta_2=1 - 2**-10)


def lazy_adam_reference(
    lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False
):
    """TFA's LazyAdam in NumPy: rows outside `rows` keep weights and moments."""
    state = {}

    def step(w, rows, values, t):
        if not state:
            for name in ("m", "v", "v_hat"):
                state[name] = np.zeros_like(w)
        g = np.zeros_like(w)
        np.add.at(g, rows, values)  # repeated rows are summed
        rows = np.unique(rows)
        m, v = state["m"], state["v"]
        m[rows] = beta_1 * m[rows] + (1 - beta_1) * g[rows]
        v[rows] = beta_2 * v[rows] + (1 - beta_2) * g[rows] ** 2
        if amsgrad:
            state["v_hat"][rows] = np.maximum(state["v_hat"][rows], v[rows])
            v = state["v_hat"]
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = np.array(w)
        w[rows] -= alpha * m[rows] / (np.sqrt(v[rows]) + epsilon)
        return w

    return step


def _embedding_model():
    return keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(12, 3),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1),
        ]
    )


def _token_data():
    rng = np.random.default_rng(0)
    # Tokens 0-7 only: rows 8-11 of the table never get a gradient.
    x = rng.integers(0, 8, size=(64, 4)).astype("int32")
    y = (x.mean(axis=1, keepdims=True) / 4 - 1).astype("float32")
    return x, y


@pytest.mark.slow
def test_dense_gradients_follow_keras_adam_exactly():
    check_optimizer(
        lambda: LazyAdam(**EXACT),
        reference=numpy_reference(keras_adam_step(*EXACT.values()), "m", "v"),
        only=["reference", "config"],
    )
    rng = np.random.default_rng(1)
    for amsgrad in (False, True):
        lazy, adam = (
            LazyAdam(amsgrad=amsgrad),
            keras.optimizers.Adam(amsgrad=amsgrad),
        )
        a, b = keras.Variable(np.ones((3, 2))), keras.Variable(np.ones((3, 2)))
        for _ in range(4):
            g = rng.normal(size=(3, 2)).astype("float32")
            lazy.apply([g], [a])
            adam.apply([g], [b])
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@on_tensorflow
@pytest.mark.parametrize("amsgrad", [False, True])
def test_sparse_gradients_update_only_their_rows(amsgrad):
    import tensorflow as tf

    opt = LazyAdam(**EXACT, amsgrad=amsgrad)
    reference = lazy_adam_reference(*EXACT.values(), amsgrad=amsgrad)
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(6, 2))
    table = keras.Variable(w0, dtype="float64")
    expected = w0
    # Row sets change from step to step; a row repeats in the second one.
    for t, rows in enumerate([[0, 2], [2, 3, 2], [5], [0, 1, 2, 3], [1]], 1):
        values = rng.normal(size=(len(rows), 2))
        gradient = tf.IndexedSlices(
            tf.constant(values), tf.constant(rows), tf.constant([6, 2])
        )
        before = table.numpy()
        opt.apply([gradient], [table])
        expected = reference(expected, rows, values, t)
        np.testing.assert_allclose(table.numpy(), expected, atol=1e-12)
        untouched = np.setdiff1d(np.arange(6), rows)
        np.testing.assert_array_equal(
            table.numpy()[untouched], before[untouched]
        )


def _fit_embeddings(optimizer):
    keras.utils.set_random_seed(0)
    model = _embedding_model()
    model.compile(optimizer, "mse")
    x, y = _token_data()
    initial = model.layers[0].get_weights()[0]
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return initial, model.layers[0].get_weights()[0]


@pytest.mark.slow
def test_fit_on_embeddings():
    initial, lazy = _fit_embeddings(LazyAdam(0.01))
    _, adam = _fit_embeddings(keras.optimizers.Adam(0.01))
    # Rows of tokens that never occur keep their initial values.
    np.testing.assert_array_equal(lazy[8:], initial[8:])
    assert np.max(np.abs(lazy[:8] - initial[:8])) > 1e-3
    if keras.backend.backend() == "jax":
        # Dense gradients: exactly Adam's run.
        np.testing.assert_allclose(lazy, adam, rtol=1e-6, atol=1e-7)
    else:
        # A row absent from a batch keeps its weights under LazyAdam;
        # Adam still moves it with its decaying moments.
        assert np.max(np.abs(lazy[:8] - adam[:8])) > 1e-4


@pytest.mark.slow
def test_contract_on_an_embedding_model():
    x, y = _token_data()
    check_optimizer(
        lambda: LazyAdam(**EXACT),
        reference=numpy_reference(keras_adam_step(*EXACT.values()), "m", "v"),
        build_fn=_embedding_model,
        x=x,
        y=y,
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta_1": 1.0}, ValueError, "`beta_1` must be a float in \\[0, 1\\)"),
        ({"beta_2": "x"}, TypeError, "`beta_2`"),
        ({"epsilon": -1.0}, ValueError, "`epsilon` must be a positive"),
        ({"amsgrad": 1}, TypeError, "`amsgrad`"),
    ]
    + KERAS_ARGUMENT_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LazyAdam(**kwargs)
