import keras
import numpy as np
import pytest

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.layers import AngularMarginHead
from keras_dlparts.testing import check_layer

RNG = np.random.default_rng(0)


def _reference(
    kernel, x, labels=None, margin=0.5, scale=64.0, variant="arcface",
    easy_margin=False,
):  # fmt: skip
    """The papers' logits in float64, from the angles (arccos)."""
    x = np.asarray(x, "float64")
    w = np.asarray(kernel, "float64")
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = w / np.linalg.norm(w, axis=0, keepdims=True)
    theta = np.arccos(np.clip(x @ w, -1.0, 1.0))
    logits = np.cos(theta)
    if labels is not None:
        rows = np.arange(len(x))
        cols = np.reshape(labels, -1)
        t = theta[rows, cols]
        if variant == "cosface":  # Wang et al. (2018): cos(theta) - m
            target = np.cos(t) - margin
        elif easy_margin:
            target = np.where(np.cos(t) > 0, np.cos(t + margin), np.cos(t))
        else:  # Deng et al. (2019), with insightface's fallback
            target = np.where(
                t + margin < np.pi,
                np.cos(t + margin),
                np.cos(t) - margin * np.sin(margin),
            )
        logits[rows, cols] = target
    return scale * logits


def _floats(*shape):
    return RNG.normal(size=shape).astype("float32")


@pytest.mark.parametrize(
    "variant, easy_margin", [("arcface", False), ("arcface", True),
                             ("cosface", False)],
)  # fmt: skip
@pytest.mark.slow
def test_logits_match_the_papers(variant, easy_margin):
    head = AngularMarginHead(
        5, margin=0.4, scale=30.0, variant=variant, easy_margin=easy_margin
    )
    x, labels = _floats(16, 3), RNG.integers(0, 5, 16)
    got = np.asarray(head([x, labels]))
    kernel = head.kernel.numpy()
    want = _reference(kernel, x, labels, 0.4, 30.0, variant, easy_margin)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    # Labels shaped (batch, 1), or passed as a second argument: the same.
    np.testing.assert_allclose(head(x, labels[:, None]), got, atol=1e-5)
    # Without labels: scale * cos(theta) for every class.
    np.testing.assert_allclose(
        head(x), _reference(kernel, x, scale=30.0), rtol=1e-4, atol=1e-3
    )


def test_arcface_fallback_beyond_pi_minus_margin():
    # Angles to the target centre of 0, 60, 160 and 175 degrees; with
    # m = 0.5 rad (28.6 degrees) the last two pass pi: the fallback.
    head = AngularMarginHead(1, margin=0.5, scale=1.0)
    head.build((None, 2))
    head.kernel.assign(np.array([[1.0], [0.0]], "float32"))
    theta = np.radians([0.0, 60.0, 160.0, 175.0])
    x = np.stack([np.cos(theta), np.sin(theta)], 1).astype("float32")
    got = np.asarray(head([x, np.zeros(4, "int32")]))[:, 0]
    fallback = theta + 0.5 >= np.pi
    assert fallback.tolist() == [False, False, True, True]
    want = np.where(
        fallback, np.cos(theta) - 0.5 * np.sin(0.5), np.cos(theta + 0.5)
    )
    np.testing.assert_allclose(got, want, atol=1e-6)
    # There cos(theta + m) would rise again with the angle; the fallback
    # keeps the target logit falling, and below the margin-free cosine.
    assert np.all(np.cos(theta + 0.5)[fallback] > got[fallback])
    assert np.all(np.diff(got) < 0) and np.all(got < np.cos(theta))


@pytest.mark.slow
def test_gradients_reach_the_kernel_and_match_finite_differences():
    head = AngularMarginHead(4, margin=0.3, scale=8.0)
    x, labels = _floats(6, 3), np.array([0, 1, 2, 3, 1, 2])
    head([x, labels])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    _, (grad,) = value_and_gradients(
        lambda: (loss_fn(labels, head([x, labels])), None), [head.kernel]
    )
    grad = np.asarray(grad)
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 1e-3

    def loss(kernel):
        z = _reference(kernel, x, labels, 0.3, 8.0)
        z = z - z.max(1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -log_p[np.arange(6), labels].mean()

    kernel = head.kernel.numpy().astype("float64")
    numeric = np.zeros_like(kernel)
    for index in np.ndindex(kernel.shape):
        step = np.zeros_like(kernel)
        step[index] = 1e-6
        numeric[index] = (loss(kernel + step) - loss(kernel - step)) / 2e-6
    np.testing.assert_allclose(grad, numeric, atol=2e-4)


@pytest.mark.slow
def test_gradients_finite_when_an_embedding_is_a_class_centre():
    head = AngularMarginHead(2, margin=0.5, scale=16.0)
    head.build((None, 2))
    head.kernel.assign(np.eye(2, dtype="float32"))
    x, labels = np.eye(2, dtype="float32"), np.array([0, 1])
    _, (grad,) = value_and_gradients(
        lambda: (keras.ops.sum(head([x, labels])), None), [head.kernel]
    )
    assert np.all(np.isfinite(np.asarray(grad)))


@pytest.mark.slow
def test_output_shape_config_and_mixed_precision():
    head = AngularMarginHead(
        7, margin=0.35, scale=16.0, variant="cosface",
        kernel_regularizer="l2", kernel_constraint="max_norm",
    )  # fmt: skip
    assert head.compute_output_shape((None, 5)) == (None, 7)
    assert head.compute_output_shape([(3, 5), (3,)]) == (3, 7)
    assert head.compute_output_shape((3, 5), (3, 1)) == (3, 7)
    x, labels = _floats(4, 5), np.array([0, 6, 3, 3])
    out = head([x, labels])
    clone = AngularMarginHead.from_config(head.get_config())
    assert clone.get_config() == head.get_config()
    clone([x, labels])
    clone.set_weights(head.get_weights())
    np.testing.assert_allclose(clone([x, labels]), out, atol=1e-6)
    half = AngularMarginHead(7, dtype="mixed_float16", variant="cosface")
    half_out = half([x, labels])
    assert keras.backend.standardize_dtype(half_out.dtype) == "float16"
    want = _reference(half.kernel.numpy(), x, labels, 0.5, 64.0, "cosface")
    np.testing.assert_allclose(np.asarray(half_out, "float32"), want, atol=0.1)


def test_mismatched_batch_sizes_and_bad_labels_are_refused():
    head = AngularMarginHead(3)
    with pytest.raises(ValueError, match="`inputs` and `labels`"):
        head([_floats(4, 2), np.zeros(3, "int32")])
    with pytest.raises(ValueError, match="labels"):
        head([_floats(4, 2), np.zeros((4, 2), "int32")])
    with pytest.raises(ValueError, match="inputs"):
        head([_floats(4, 2), np.zeros(4, "int32"), np.zeros(4, "int32")])
    with pytest.raises(ValueError, match="margin"):
        AngularMarginHead(3, margin=2.0)
    with pytest.raises(ValueError, match="variant"):
        AngularMarginHead(3, variant="sphereface")


def _blobs(n=64, classes=4, features=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, features)) * 3.0
    labels = rng.integers(0, classes, n).astype("int32")
    x = centres[labels] + rng.normal(size=(n, features))
    return x.astype("float32"), labels


@pytest.mark.slow
def test_two_input_model_trains_and_reloads_safely(tmp_path):
    x, labels = _blobs()
    keras.utils.set_random_seed(0)
    features = keras.Input((6,), name="features")
    label_in = keras.Input((), dtype="int32", name="labels")
    embedding = keras.layers.Dense(8, name="embed")(features)
    head = AngularMarginHead(4, margin=0.2, scale=16.0, name="head")
    train = keras.Model([features, label_in], head([embedding, label_in]))
    infer = keras.Model(features, head(embedding))

    def accuracy():
        return np.mean(np.argmax(infer.predict(x, verbose=0), 1) == labels)

    before = accuracy()
    train.compile(
        keras.optimizers.Adam(0.05),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = train.fit(
        [x, labels], labels, epochs=15, batch_size=16, verbose=0
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = accuracy()
    assert after > before and after >= 0.9

    path = str(tmp_path / "head.keras")
    train.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict([x, labels], verbose=0),
        train.predict([x, labels], verbose=0),
        atol=1e-5,
    )


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["arcface", "cosface"])
def test_contract(variant):
    x, labels = _floats(8, 5), (np.arange(8) % 3).astype("int32")
    check_layer(
        AngularMarginHead,
        {"num_classes": 3, "margin": 0.3, "scale": 4.0, "variant": variant},
        (x, labels),
        reference=lambda layer, x, y: _reference(
            layer.kernel.numpy(), x, y, 0.3, 4.0, variant
        ),
        atol=1e-4,
        rtol=1e-4,
    )
