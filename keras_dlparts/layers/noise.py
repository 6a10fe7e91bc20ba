"""Salt-and-pepper (impulse) noise augmentation."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.layers.random_augmentation import RandomAugmentation


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SaltAndPepperNoise(RandomAugmentation):
    """Replaces random input values by a "salt" or a "pepper" value.

    Impulse noise for images (or any real-valued input), which Keras lacks.
    In training, each element is hit independently with probability
    `rate`; a hit element becomes `high` (salt) with probability
    `salt_ratio` and `low` (pepper) otherwise:

    ```
    u ~ U(0, 1) per element
    y = high   if u < rate * salt_ratio
        low    if rate * salt_ratio <= u < rate
        x      otherwise
    ```

    With `per_pixel=True` the draw is shared over the last (channel) axis,
    so a hit pixel turns white or black in all channels, the classic
    impulse noise of RGB images. Outside training the layer is the
    identity.

    Args:
        rate: float in [0, 1], the probability that an element is hit.
        salt_ratio: float in [0, 1], the share of hits set to `high`.
        low: float, the pepper value (0.0, black, for images in [0, 1]).
        high: float, the salt value (1.0, white, for images in [0, 1]).
        per_pixel: bool, share the draw over the last axis.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a float tensor of any rank (at least 2 with `per_pixel`).
        training: Python boolean; add noise only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = SaltAndPepperNoise(rate=1.0, salt_ratio=1.0, seed=0)
        >>> x = np.full((1, 2, 2, 1), 0.5, "float32")
        >>> np.asarray(layer(x, training=True)).ravel().tolist()
        [1.0, 1.0, 1.0, 1.0]
        >>> np.asarray(layer(x)).ravel().tolist()
        [0.5, 0.5, 0.5, 0.5]
    """

    def __init__(
        self,
        rate,
        salt_ratio=0.5,
        low=0.0,
        high=1.0,
        per_pixel=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        _validation.fraction("rate", rate)
        _validation.fraction("salt_ratio", salt_ratio)
        _validation.ordered("low", low, "high", high)
        _validation.boolean("per_pixel", per_pixel)
        self.rate = rate
        self.salt_ratio = salt_ratio
        self.low = low
        self.high = high
        self.per_pixel = per_pixel

    def augment(self, inputs):
        shape = ops.shape(inputs)
        if self.per_pixel:
            _validation.min_rank("inputs", inputs, 2)  # with `per_pixel`
            shape = tuple(shape[:-1]) + (1,)
        u = keras.random.uniform(shape, seed=self.seed_generator)
        salt = u < self.rate * self.salt_ratio
        pepper = ops.logical_and(
            u >= self.rate * self.salt_ratio, u < self.rate
        )
        dtype = inputs.dtype
        outputs = ops.where(salt, ops.cast(self.high, dtype), inputs)
        return ops.where(pepper, ops.cast(self.low, dtype), outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "salt_ratio": self.salt_ratio,
            "low": self.low,
            "high": self.high,
            "per_pixel": self.per_pixel,
        }
