"""A CLIP-style dual encoder: contrastive image-text training, zero-shot use."""

import math

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import boolean
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import number
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import sequence
from keras_dlparts.models._nested import deserialize_models
from keras_dlparts.models._nested import serialize_models
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._resume import known_output_shape
from keras_dlparts.ops.similarity import l2_normalize

#: CLIP clips the learned logit scale `1 / temperature` at 100.
MAX_LOGIT_SCALE = 100.0
_MODELS = ("image_encoder", "text_encoder")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class DualEncoder(SeedState, keras.Model):
    """Two encoders trained so that matching images and texts align (CLIP).

    Each encoder's output is linearly projected to `projection_dim` and
    L2-normalised; the model returns the `(n, n)` logits
    `exp(t) * I T^T` between the `n` images and `n` texts of a batch, where
    `exp(t) = 1 / temperature` is learned (as `t`, clipped so that
    `exp(t) <= 100`, as in CLIP) unless `learn_temperature=False`. Matching
    pairs lie on the diagonal, so train it with
    `keras_dlparts.losses.CLIPLoss()` (temperature `None`: `y_pred` are
    logits) and any placeholder `y`, e.g. `np.zeros(n)`.

    Built at construction when its networks are (functional, or
    `Sequential` with a `keras.Input`), so `keras.callbacks.BackupAndRestore`
    can resume its training; with networks of unknown input shape, call
    the model on a batch first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        image_encoder: a `keras.Model` (or layer) from images to vectors.
        text_encoder: a `keras.Model` (or layer) from token ids to vectors.
        projection_dim: width of the shared embedding space.
        temperature: initial temperature, > 0 (CLIP starts at 0.07).
        learn_temperature: whether the temperature is trained.

    Call arguments:
        inputs: `(images, texts)`, `n` of each.

    Returns:
        The `(n, n)` image-to-text logits.

    Examples:

        >>> import numpy as np
        >>> images = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(8)])
        >>> texts = keras.Sequential([
        ...     keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 8),
        ...     keras.layers.GlobalAveragePooling1D()])
        >>> model = DualEncoder(images, texts, projection_dim=5)
        >>> tuple(model((np.ones((2, 4)), np.ones((2, 3), "int32"))).shape)
        (2, 2)
    """

    def __init__(
        self,
        image_encoder,
        text_encoder,
        projection_dim,
        temperature=0.07,
        learn_temperature=True,
        **kwargs,
    ):
        keras_object("image_encoder", image_encoder, keras.layers.Layer)
        keras_object("text_encoder", text_encoder, keras.layers.Layer)
        positive_int("projection_dim", projection_dim)
        number(
            "temperature",
            temperature,
            low=1.0 / MAX_LOGIT_SCALE,
            include_low=False,
        )
        boolean("learn_temperature", learn_temperature)
        super().__init__(**kwargs)
        self.image_encoder = image_encoder
        self.text_encoder = text_encoder
        self.projection_dim = projection_dim
        self.temperature = float(temperature)
        self.learn_temperature = learn_temperature
        self.image_projection = keras.layers.Dense(
            projection_dim, use_bias=False, name="image_projection"
        )
        self.text_projection = keras.layers.Dense(
            projection_dim, use_bias=False, name="text_projection"
        )
        self.log_logit_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(
                math.log(1.0 / temperature)
            ),
            trainable=self.learn_temperature,
            name="log_logit_scale",
        )
        self._build_projections()

    def _build_projections(self):
        """Builds the model now if both encoders' output shapes are known."""
        image_shape = known_output_shape(self.image_encoder)
        text_shape = known_output_shape(self.text_encoder)
        if image_shape is None or text_shape is None:
            return  # built on the first call
        self.image_projection.build(image_shape)
        self.text_projection.build(text_shape)
        self.built = True

    def encode_images(self, images, training=False):
        """L2-normalised image embeddings `(n, projection_dim)`."""
        fits_input("images", images, self.image_encoder)
        features = self.image_encoder(images, training=training)
        return l2_normalize(self.image_projection(features))

    def encode_texts(self, texts, training=False):
        """L2-normalised text embeddings `(n, projection_dim)`."""
        fits_input("texts", texts, self.text_encoder)
        features = self.text_encoder(texts, training=training)
        return l2_normalize(self.text_projection(features))

    def logit_scale(self):
        """`1 / temperature`, clipped at 100."""
        return ops.exp(
            ops.minimum(self.log_logit_scale, math.log(MAX_LOGIT_SCALE))
        )

    def similarity(self, images, texts, training=False):
        """Logits `(n_images, n_texts)`: scaled cosines of the embeddings."""
        image_embeddings = self.encode_images(images, training)
        text_embeddings = self.encode_texts(texts, training)
        scale = ops.cast(self.logit_scale(), image_embeddings.dtype)
        return scale * ops.matmul(
            image_embeddings, ops.transpose(text_embeddings)
        )

    def call(self, inputs, training=False):
        images, texts = sequence("inputs", inputs, (2,), "(images, texts)")
        same_batch_size(("images", images), ("texts", texts))
        return self.similarity(images, texts, training)

    def zero_shot_classify(self, images, label_texts, batch_size=256):
        """Class index of each image: the label text whose embedding is nearest.

        Args:
            images: `(n, ...)` images.
            label_texts: `(num_labels, length)` token ids, one text per label
                (e.g. "a photo of the digit seven", tokenised).

        Returns:
            A NumPy int array `(n,)` of indices into `label_texts`.
        """
        text_embeddings = self.encode_texts(label_texts)
        predictions = []
        for start in range(0, len(images), batch_size):
            image_embeddings = self.encode_images(
                images[start : start + batch_size]
            )
            scores = ops.matmul(
                image_embeddings, ops.transpose(text_embeddings)
            )
            predictions.append(ops.convert_to_numpy(ops.argmax(scores, axis=1)))
        return np.concatenate(predictions)

    def get_config(self):
        return {
            **super().get_config(),
            **serialize_models(self, _MODELS),
            "projection_dim": self.projection_dim,
            "temperature": self.temperature,
            "learn_temperature": self.learn_temperature,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_models(config, _MODELS))
