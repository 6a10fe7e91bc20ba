"""Minibatch standard deviation (Karras et al., 2018, ProGAN)."""

import keras
from keras import ops

from keras_dlparts._validation import min_rank
from keras_dlparts._validation import number
from keras_dlparts._validation import positive_int


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MinibatchStdDev(keras.layers.Layer):
    """Appends the batch's spread as one extra channel (ProGAN).

    The batch is cut into consecutive groups of `group_size` samples (the
    last group keeps the remainder, so any batch size works; a batch
    smaller than `group_size` is one group, as `min(group_size, batch)` in
    the paper). For each group, the standard deviation over the group of
    every feature, `sqrt(mean_g (x - mean_g x)^2 + epsilon)`, is averaged
    over all features (pixels and channels) to one number, which is
    appended to each sample of the group as a constant last channel:
    `(B, ..., C)` becomes `(B, ..., C + 1)`. In a GAN's discriminator it
    lets the network see how varied a batch is, so a generator whose
    samples are near copies is easy to tell from real data (Karras et al.,
    2018, section 3). The layer has no weights. Consecutive groups (not
    the paper's strided ones) keep a batch of real and a batch of fake
    samples apart when a model concatenates them.

    Args:
        group_size: positive int, samples per group (4 in the paper).
        epsilon: non-negative float added to the variance before the root.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: a tensor of rank >= 2, features on the last axis.

    Returns:
        `inputs` with one more feature on the last axis.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import MinibatchStdDev
        >>> x = np.array([[0.0, 0.0], [2.0, 4.0]], "float32")
        >>> np.asarray(MinibatchStdDev(group_size=2, epsilon=0.0)(x))
        array([[0. , 0. , 1.5],
               [2. , 4. , 1.5]], dtype=float32)
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        positive_int("group_size", group_size)
        number("epsilon", epsilon, low=0)
        super().__init__(**kwargs)
        self.group_size = group_size
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        min_rank("inputs", tuple(input_shape), 2)
        self.built = True

    def call(self, inputs):
        g = self.group_size
        shape = ops.shape(inputs)
        n = shape[0]
        if isinstance(n, int) and n == 0:  # an empty batch stays empty
            extra = ops.zeros(tuple(shape[:-1]) + (1,), inputs.dtype)
            return ops.concatenate([inputs, extra], axis=-1)
        flat = ops.reshape(inputs, (n, -1))
        pad = (g - n % g) % g
        mask = ops.pad(ops.ones((n, 1), flat.dtype), [[0, pad], [0, 0]])
        features = ops.shape(flat)[1]
        groups = ops.pad(flat, [[0, pad], [0, 0]])
        groups = ops.reshape(groups, (-1, g, features))
        mask = ops.reshape(mask, (-1, g, 1))
        count = ops.sum(mask, axis=1, keepdims=True)
        mean = ops.sum(groups * mask, axis=1, keepdims=True) / count
        var = ops.sum(mask * ops.square(groups - mean), axis=1) / count[:, 0]
        spread = ops.mean(ops.sqrt(var + self.epsilon), axis=-1)
        per_sample = ops.repeat(spread, g, axis=0)[:n]
        extra = ops.reshape(per_sample, (n,) + (1,) * (len(shape) - 1))
        extra = ops.broadcast_to(extra, tuple(shape[:-1]) + (1,))
        return ops.concatenate([inputs, extra], axis=-1)

    def compute_output_shape(self, input_shape):
        last = input_shape[-1]
        return tuple(input_shape[:-1]) + (None if last is None else last + 1,)

    def get_config(self):
        return {
            **super().get_config(),
            "group_size": self.group_size,
            "epsilon": self.epsilon,
        }
