"""Base class for training-only, seeded augmentation layers.

The augmentation layers of keras_dlparts (`SaltAndPepperNoise`, the token
and the audio augmentations) share this behaviour:

- they change their input only when called with `training=True` (inside
  `model.fit` or explicitly) and return it unchanged otherwise, like
  `keras.layers.Dropout` and `keras.layers.GaussianNoise`;
- their randomness comes from a `keras.random.SeedGenerator`, so a seeded
  layer repeats its draws;
- they have no weights and keep the shape (and dtype) of their input;
- they are written with `keras.ops` / `keras.random` only, so they run
  inside a model (eager, graph, XLA, `MirroredStrategy`) and inside
  `tf.data.Dataset.map` on the TensorFlow backend.
"""

import keras

from keras_dlparts import _validation


class RandomAugmentation(keras.layers.Layer):
    """Base class of the training-only, seeded augmentation layers.

    Subclasses implement `augment(inputs)` (called only in training) and may
    set `allowed_ranks` to the input ranks they accept. `call` returns the
    input unchanged when `training` is falsy.

    Args:
        seed: optional integer seed of the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: the tensor to augment.
        training: Python boolean; augment only when `True`. Inside a
            model, Keras passes the model's training flag; in a
            `tf.data` pipeline pass `training=True` yourself.

    Returns:
        A tensor with the shape and dtype of `inputs`.
    """

    #: Input ranks a subclass accepts; `None` accepts any rank.
    allowed_ranks = None

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _validation.random_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self._build_at_init()

    def _check_rank(self, shape):
        if self.allowed_ranks is not None:
            _validation.check_rank("inputs", tuple(shape), self.allowed_ranks)

    def call(self, inputs, training=False):
        self._check_rank(inputs.shape)
        if training:
            return self.augment(inputs)
        return inputs

    def augment(self, inputs):
        """Returns the augmented `inputs` (training mode)."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
