"""Sub-pixel upsampling (pixel shuffle) and its inverse."""

import keras
from keras import ops

from keras_dlparts._validation import check_rank
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int

_FORMATS = ("channels_last", "channels_first")


def _split(size, factor):
    return None if size is None else size // factor


def _times(size, factor):
    return None if size is None else size * factor


class _Rearrange(keras.layers.Layer):
    """Shared arguments and checks of `PixelShuffle` and `PixelUnshuffle`."""

    def __init__(self, upscale_factor, data_format=None, **kwargs):
        positive_int("upscale_factor", upscale_factor)
        if data_format is None:
            data_format = keras.config.image_data_format()
        one_of("data_format", data_format, _FORMATS)
        super().__init__(**kwargs)
        self.upscale_factor = upscale_factor
        self.data_format = data_format

    def _axes(self, shape):
        """`(height, width, channels)` of a rank-4 `shape`."""
        check_rank("inputs", tuple(shape), 4)
        if self.data_format == "channels_last":
            return tuple(shape[1:])
        return tuple(shape[2:]) + (shape[1],)

    def _layout(self, batch, height, width, channels):
        if self.data_format == "channels_last":
            return (batch, height, width, channels)
        return (batch, channels, height, width)

    def get_config(self):
        return {
            **super().get_config(),
            "upscale_factor": self.upscale_factor,
            "data_format": self.data_format,
        }


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PixelShuffle(_Rearrange):
    """Sub-pixel upsampling (Shi et al., 2016): channels become pixels.

    With `r = upscale_factor`, a `(B, H, W, C r^2)` input becomes a
    `(B, H r, W r, C)` output (channels_last), each output pixel taken from
    one channel of the input pixel it lies in:

    ```
    channels_last:  out[b, h r + i, w r + j, c] = x[b, h, w, (i r + j) C + c]
    channels_first: out[b, c, h r + i, w r + j] = x[b, c r^2 + i r + j, h, w]
    ```

    The channels_last order is that of `tf.nn.depth_to_space`; the
    channels_first order is that of PyTorch's `torch.nn.PixelShuffle`
    (ported weights keep their meaning). After a convolution with
    `C r^2` filters this is the efficient sub-pixel convolution layer of
    the paper. The layer has no weights.

    Args:
        upscale_factor: positive integer `r`, the factor of both sides.
        data_format: `"channels_last"` or `"channels_first"`; `None` means
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: a rank-4 tensor whose channels are a multiple of `r^2`.

    Returns:
        The upsampled rank-4 tensor.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import PixelShuffle
        >>> x = np.arange(8, dtype="float32").reshape(1, 1, 2, 4)
        >>> np.asarray(PixelShuffle(2)(x))[0, :, :, 0].tolist()
        [[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]]
    """

    def build(self, input_shape):
        channels = self._axes(input_shape)[2]
        if channels is not None and channels % self.upscale_factor**2:
            raise ValueError(
                "Argument `upscale_factor` must have a square that divides "
                f"the input's channels. Received: upscale_factor="
                f"{self.upscale_factor} and {channels} channels (inputs.shape"
                f"={tuple(input_shape)})"
            )
        self.built = True

    def call(self, inputs):
        r = self.upscale_factor
        batch = ops.shape(inputs)[0]
        height, width, channels = self._axes(ops.shape(inputs))
        depth = channels // (r * r)
        if self.data_format == "channels_last":
            x = ops.reshape(inputs, (batch, height, width, r, r, depth))
            x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        else:
            x = ops.reshape(inputs, (batch, depth, r, r, height, width))
            x = ops.transpose(x, (0, 1, 4, 2, 5, 3))
        return ops.reshape(x, self._layout(batch, height * r, width * r, depth))

    def compute_output_shape(self, input_shape):
        r = self.upscale_factor
        height, width, channels = self._axes(input_shape)
        return self._layout(
            input_shape[0],
            _times(height, r),
            _times(width, r),
            _split(channels, r * r),
        )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PixelUnshuffle(_Rearrange):
    """The inverse of `PixelShuffle`: `r x r` blocks of pixels become channels.

    A `(B, H r, W r, C)` input becomes `(B, H, W, C r^2)` (channels_last,
    the order of `tf.nn.space_to_depth`; channels_first follows PyTorch's
    `torch.nn.PixelUnshuffle`), so that
    `PixelShuffle(r)(PixelUnshuffle(r)(x)) == x`.

    Args:
        upscale_factor: positive integer `r`; the input's height and width
            must be multiples of it.
        data_format: `"channels_last"` or `"channels_first"`; `None` means
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments (`name`, `dtype`).

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import PixelUnshuffle
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> np.asarray(PixelUnshuffle(2)(x))[0, 0, 0].tolist()
        [0.0, 1.0, 4.0, 5.0]
    """

    def build(self, input_shape):
        height, width, _ = self._axes(input_shape)
        r = self.upscale_factor
        if any(s is not None and s % r for s in (height, width)):
            raise ValueError(
                "Argument `upscale_factor` must divide the input's height "
                f"and width. Received: upscale_factor={r} and inputs.shape="
                f"{tuple(input_shape)}"
            )
        self.built = True

    def call(self, inputs):
        r = self.upscale_factor
        batch = ops.shape(inputs)[0]
        height, width, depth = self._axes(ops.shape(inputs))
        height, width = height // r, width // r
        if self.data_format == "channels_last":
            x = ops.reshape(inputs, (batch, height, r, width, r, depth))
            x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        else:
            x = ops.reshape(inputs, (batch, depth, height, r, width, r))
            x = ops.transpose(x, (0, 1, 3, 5, 2, 4))
        return ops.reshape(x, self._layout(batch, height, width, depth * r * r))

    def compute_output_shape(self, input_shape):
        r = self.upscale_factor
        height, width, channels = self._axes(input_shape)
        return self._layout(
            input_shape[0],
            _split(height, r),
            _split(width, r),
            _times(channels, r * r),
        )
