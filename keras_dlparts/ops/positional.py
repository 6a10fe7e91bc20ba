"""Sinusoidal positional encoding table (Vaswani et al., 2017)."""

import keras
from keras import ops

from keras_dlparts import _validation


def sinusoidal_positional_encoding(length, depth, base=10000.0):
    """Returns the sinusoidal positional encoding table.

    Position `pos` and column `j` of a `depth`-wide table hold, with sines on
    even and cosines on odd columns (interleaved):

    ```
    PE(pos, 2i)     = sin(pos / base ** (2i / depth))
    PE(pos, 2i + 1) = cos(pos / base ** (2i / depth))
    ```

    Args:
        length: number of positions, a non-negative integer (or a scalar
            integer tensor, e.g. a dynamic sequence length).
        depth: width of the table, a positive even integer.
        base: the wavelength base, a positive finite number (10000 in the
            paper).

    Returns:
        A float32 tensor of shape `(length, depth)`.

    Raises:
        TypeError: when an argument has the wrong type (`length` a float,
            `depth` not an integer, `base` not a number).
        ValueError: when `length` is negative, `depth` not positive and
            even, or `base` not positive and finite.

    Examples:

        >>> from keras import ops
        >>> table = sinusoidal_positional_encoding(3, 4)
        >>> print(ops.convert_to_numpy(table).round(4))
        [[ 0.      1.      0.      1.    ]
         [ 0.8415  0.5403  0.01    1.    ]
         [ 0.9093 -0.4161  0.02    0.9998]]
    """
    depth = check_depth(depth)
    if not keras.ops.is_tensor(length):  # a dynamic length is not checked
        length = _validation.positive_int("length", length, minimum=0)
    base = _validation.positive_number("base", base)
    positions = ops.cast(ops.arange(length), "float32")
    exponents = ops.cast(ops.arange(0, depth, 2), "float32") / float(depth)
    inverse_frequencies = ops.power(float(base), -exponents)
    angles = ops.expand_dims(positions, 1) * ops.expand_dims(
        inverse_frequencies, 0
    )
    table = ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1)
    return ops.reshape(table, (-1, depth))


def check_depth(depth, name="depth"):
    """Returns `depth` if it is a positive even integer, else raises.

    `name` is the argument the caller was given (a layer checks the last
    dimension of its `inputs` here when it is built).
    """
    return _validation.multiple_of(
        name, depth, 2, " (sin and cos columns come in pairs)"
    )
