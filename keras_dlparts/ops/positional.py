"""Sinusoidal positional encoding table (Vaswani et al., 2017)."""

from keras import ops


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
        base: the wavelength base, a positive number (10000 in the paper).

    Returns:
        A float32 tensor of shape `(length, depth)`.

    Examples:

        >>> from keras import ops
        >>> table = sinusoidal_positional_encoding(3, 4)
        >>> print(ops.convert_to_numpy(table).round(4))
        [[ 0.      1.      0.      1.    ]
         [ 0.8415  0.5403  0.01    1.    ]
         [ 0.9093 -0.4161  0.02    0.9998]]
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0:
        raise ValueError(
            "Argument `depth` must be a positive even integer. "
            f"Received: depth={depth!r}"
        )
    if depth % 2:
        raise ValueError(
            "Argument `depth` must be even (sin and cos columns come in "
            f"pairs). Received: depth={depth}"
        )
    if isinstance(length, bool) or (isinstance(length, int) and length < 0):
        raise ValueError(
            "Argument `length` must be a non-negative integer. "
            f"Received: length={length!r}"
        )
    if not isinstance(base, (int, float)) or isinstance(base, bool) or base <= 0:
        raise ValueError(
            f"Argument `base` must be a positive number. Received: base={base!r}"
        )
    positions = ops.cast(ops.arange(length), "float32")
    exponents = ops.cast(ops.arange(0, depth, 2), "float32") / float(depth)
    inverse_frequencies = ops.power(float(base), -exponents)
    angles = ops.expand_dims(positions, 1) * ops.expand_dims(
        inverse_frequencies, 0
    )
    table = ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1)
    return ops.reshape(table, (-1, depth))
