"""Vision Transformer input layers: patch embedding and the [class] token."""

import keras
from keras import ops

from keras_dlparts._validation import axis_size
from keras_dlparts._validation import check_layout
from keras_dlparts._validation import initializer
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_ints
from keras_dlparts.layers.dense_block import IMAGE


def _patch_size_pair(patch_size):
    """`patch_size` as a `(height, width)` pair; raises naming `patch_size`."""
    if isinstance(patch_size, (tuple, list)):
        return positive_ints("patch_size", patch_size, length=2)
    size = positive_int("patch_size", patch_size)
    return (size, size)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PatchEmbedding(keras.layers.Layer):
    """Cuts images into non-overlapping patches and projects each linearly.

    An image of shape `(H, W, C)` is cut into `N = (H / p_h) (W / p_w)`
    patches of `p_h x p_w` pixels, taken row by row; each patch is flattened
    in `(row, column, channel)` order into a vector `x_n` of
    `p_h p_w C` values and projected: `z_n = x_n W + b`, with
    `W` of shape `(p_h p_w C, embedding_dim)`. (This equals a `Conv2D` with
    kernel size and stride `patch_size` whose kernel is `W` reshaped.)

    Args:
        patch_size: an int, or a pair `(p_h, p_w)`, dividing the image size.
        embedding_dim: width of each patch embedding, a positive integer.
        kernel_initializer, bias_initializer: initializers of `W` and `b`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: images of shape `(batch, H, W, C)` (channels last).

    Returns:
        A tensor of shape `(batch, N, embedding_dim)`.

    Examples:

        >>> import numpy as np
        >>> layer = PatchEmbedding(patch_size=2, embedding_dim=5)
        >>> tuple(layer(np.zeros((1, 4, 6, 3), "float32")).shape)
        (1, 6, 5)
    """

    def __init__(
        self,
        patch_size,
        embedding_dim,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._patch_hw = _patch_size_pair(patch_size)
        positive_int("embedding_dim", embedding_dim)
        self.patch_size = patch_size
        self.embedding_dim = embedding_dim
        self.kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = initializer(
            "bias_initializer", bias_initializer
        )

    def build(self, input_shape):
        input_shape = check_layout("inputs", tuple(input_shape), IMAGE)
        height, width, channels = (
            axis_size("inputs", input_shape, axis) for axis in (1, 2, 3)
        )
        p_h, p_w = self._patch_hw
        if height % p_h or width % p_w:
            raise ValueError(
                f"Argument `patch_size`={self.patch_size!r} must divide the "
                f"image size (height, width)=({height}, {width}). "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(p_h * p_w * channels, self.embedding_dim),
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(self.embedding_dim,),
            initializer=self.bias_initializer,
        )
        self.built = True

    def call(self, inputs):
        height, width, channels = inputs.shape[1:]
        p_h, p_w = self._patch_hw
        rows, cols = height // p_h, width // p_w
        x = ops.reshape(inputs, (-1, rows, p_h, cols, p_w, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        x = ops.reshape(x, (-1, rows * cols, p_h * p_w * channels))
        return ops.matmul(x, self.kernel) + self.bias

    def compute_output_shape(self, input_shape):
        p_h, p_w = self._patch_hw
        count = (input_shape[1] // p_h) * (input_shape[2] // p_w)
        return (input_shape[0], count, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "patch_size": self.patch_size,
                "embedding_dim": self.embedding_dim,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ClassToken(keras.layers.Layer):
    """Prepends a learned [class] token to a sequence.

    `out = concat([c, x_1, ..., x_N])` along the sequence axis, with a
    trainable vector `c` of the input's width, shared by every example (the
    ViT [class] token whose final state feeds the classifier head). A Keras
    mask on the inputs is extended with `True` for the token.

    Args:
        token_initializer: initializer of `c`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor of shape `(batch, N, dim)`.

    Returns:
        A tensor of shape `(batch, N + 1, dim)` whose first position is `c`.

    Examples:

        >>> import numpy as np
        >>> layer = ClassToken(token_initializer="ones")
        >>> out = np.asarray(layer(np.zeros((2, 3, 4), "float32")))
        >>> out.shape, out[:, 0].tolist()[0], float(out[:, 1:].max())
        ((2, 4, 4), [1.0, 1.0, 1.0, 1.0], 0.0)
    """

    def __init__(self, token_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.token_initializer = initializer(
            "token_initializer", token_initializer
        )
        self.supports_masking = True

    def build(self, input_shape):
        check_layout("inputs", tuple(input_shape), ("batch", "length", "dim"))
        self.token = self.add_weight(
            name="token",
            shape=(1, 1, axis_size("inputs", tuple(input_shape), -1)),
            initializer=self.token_initializer,
        )
        self.built = True

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        token = ops.broadcast_to(
            ops.cast(self.token, inputs.dtype), (batch, 1, inputs.shape[-1])
        )
        return ops.concatenate([token, inputs], axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        visible = ops.ones_like(ops.take(mask, [0], axis=1), dtype="bool")
        return ops.concatenate([visible, ops.cast(mask, "bool")], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "token_initializer": keras.initializers.serialize(
                    self.token_initializer
                )
            }
        )
        return config
