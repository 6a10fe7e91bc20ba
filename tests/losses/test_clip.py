import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_dlparts.losses import CLIPLoss
from keras_dlparts.testing import check_loss


def clip_reference(temperature=None):
    """Mean over pairs of the image->text and text->image cross-entropies."""

    def reference(y_true, similarities):
        logits = np.asarray(similarities, "float64")
        if temperature is not None:
            logits = logits / temperature
        n = len(logits)

        def cross_entropy(rows):
            shifted = rows - rows.max(axis=1, keepdims=True)
            log_softmax = shifted - np.log(
                np.exp(shifted).sum(axis=1, keepdims=True)
            )
            return -log_softmax[np.arange(n), np.arange(n)]

        return np.mean(0.5 * (cross_entropy(logits) + cross_entropy(logits.T)))

    return reference


@keras.saving.register_keras_serializable(package="tests_clip")
class InBatchLogits(keras.layers.Layer):
    """Cosine similarities of image and text embeddings times a learned scale.

    Owns the learned temperature as CLIP does: `log(1 / temperature)`,
    initialised at `1 / 0.07` and clipped at 100.
    """

    def build(self, images_shape, texts_shape):
        self.log_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(1 / 0.07)),
            name="log_scale",
        )

    def call(self, images, texts):
        images = images / ops.norm(images, axis=-1, keepdims=True)
        texts = texts / ops.norm(texts, axis=-1, keepdims=True)
        scale = ops.exp(ops.minimum(self.log_scale, math.log(100.0)))
        return scale * ops.matmul(images, ops.transpose(texts))

    def compute_output_shape(self, images_shape, texts_shape):
        return (images_shape[0], texts_shape[0])


def dual_encoder():
    images, texts = keras.Input((6,)), keras.Input((5,))
    logits = InBatchLogits()(
        keras.layers.Dense(4)(images), keras.layers.Dense(4)(texts)
    )
    return keras.Model([images, texts], logits)


rng = np.random.default_rng(0)
N = 8
IMAGES = rng.normal(size=(N, 6)).astype("float32")
TEXTS = (IMAGES[:, :5] + 0.1 * rng.normal(size=(N, 5))).astype("float32")
SIMILARITIES = rng.uniform(-1, 1, size=(N, N)).astype("float32")


@pytest.mark.slow
def test_contract_with_learned_temperature():
    check_loss(
        lambda: CLIPLoss(),
        np.zeros(N),
        20 * SIMILARITIES,
        reference=clip_reference(),
        build_fn=dual_encoder,
        x=[IMAGES, TEXTS],
        y=np.zeros(N),
    )


@pytest.mark.slow
def test_fixed_temperature_matches_reference():
    check_loss(
        lambda: CLIPLoss(temperature=0.07),
        np.zeros(N),
        SIMILARITIES,
        reference=clip_reference(0.07),
        only=["config", "reference", "finite_gradients"],
    )


def test_learned_temperature_is_trained_with_the_model():
    model = dual_encoder()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=CLIPLoss())
    logits_layer = model.layers[-1]
    before = float(logits_layer.log_scale.numpy())
    loss_before = model.evaluate([IMAGES, TEXTS], np.zeros(N), verbose=0)
    model.fit([IMAGES, TEXTS], np.zeros(N), epochs=10, batch_size=N, verbose=0)
    assert float(logits_layer.log_scale.numpy()) != pytest.approx(before)
    assert model.evaluate([IMAGES, TEXTS], np.zeros(N), verbose=0) < loss_before


def test_symmetric_in_images_and_texts():
    loss = CLIPLoss(temperature=0.5)
    assert float(loss(np.zeros(N), SIMILARITIES)) == pytest.approx(
        float(loss(np.zeros(N), SIMILARITIES.T))
    )


def test_perfect_separation_gives_small_loss():
    assert float(CLIPLoss(temperature=0.01)(np.zeros(4), np.eye(4))) < 1e-6


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="`temperature` must be a positive"):
        CLIPLoss(temperature=0.0)
    with pytest.raises(ValueError, match="`temperature` must be a positive"):
        CLIPLoss(temperature=float("nan"))
    with pytest.raises(TypeError, match="`temperature` must be a number"):
        CLIPLoss(temperature="0.1")
    with pytest.raises(ValueError, match="same batch size"):
        CLIPLoss()(np.zeros(3), np.ones((4, 4)))
    with pytest.raises(
        ValueError, match=r"must be the square \(batch, batch\)"
    ):
        CLIPLoss()(np.zeros(4), np.ones((4, 3)))
