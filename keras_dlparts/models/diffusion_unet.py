"""The noise-prediction U-Net of DDPM, as a functional model builder."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.attention import MultiHeadAttention
from keras_dlparts.layers.timestep import TimestepEmbedding


def build_diffusion_unet(
    image_shape,
    base_filters=32,
    channel_multipliers=(1, 2),
    num_res_blocks=1,
    attention_resolutions=(4,),
    num_classes=None,
    num_heads=1,
    groups=8,
    dropout=0.0,
    memory_efficient=False,
    context_shape=None,
    context_mask=False,
    name="diffusion_unet",
):
    """Builds the noise predictor `eps_theta(x_t, t[, condition])` of DDPM.

    A U-Net (Ho et al., 2020) at small scale: a 3x3 stem convolution; per
    resolution level `num_res_blocks` residual blocks
    `h + Conv(act(GN(Conv(act(GN(h))) + Dense(act(temb)))))` into which the
    timestep embedding is injected, with a self-attention block after each
    residual block whose spatial size is in `attention_resolutions`
    (`keras_dlparts.layers.MultiHeadAttention`, scaled dot-product); a
    stride-2 convolution between levels; a middle of residual, attention,
    residual; the mirror-image decoder (nearest upsampling + 3x3 conv) with
    skip connections concatenated; and a 3x3 output convolution kept in
    float32 under mixed precision.

    The timestep embedding is `TimestepEmbedding(4 * base_filters)`. With
    `num_classes`, a class embedding of `num_classes + 1` rows is added to
    it; row `num_classes` is the "no label" token that classifier-free
    guidance trains and samples with.

    With `context_shape=(length, dim)` the network is conditioned instead
    on a context sequence (e.g. text-encoder embeddings) through
    cross-attention, as in latent/stable diffusion (Rombach et al., 2022):
    every attention block becomes a spatial transformer

    ```
    s = Dense(flatten_hw(GN(x)))                    # C channels, HW tokens
    s = s + SelfAttention(LN(s))
    s = s + CrossAttention(LN(s), context)          # keys/values: context
    s = s + Dense(gelu(Dense(LN(s))))               # 4 C hidden units
    y = x + reshape_hw(Dense(s))
    ```

    (`keras_dlparts.layers.MultiHeadAttention` for both attentions, queries
    from the image tokens). With `context_mask=True` the network takes a
    fourth input, a `(batch, length)` mask, 1 for real tokens and 0 for
    padding, which the cross-attention ignores (float, not boolean, so it
    also passes through `tf.distribute` input pipelines).

    Args:
        image_shape: `(height, width, channels)`; height and width divisible
            by `2 ** (len(channel_multipliers) - 1)`.
        base_filters: channels of the first level, a positive integer
            divisible by `groups`.
        channel_multipliers: channels of each level as multiples of
            `base_filters`; one level per entry.
        num_res_blocks: residual blocks per level in the encoder (the
            decoder has one more).
        attention_resolutions: spatial sizes (height) at which
            self-attention blocks are added; `()` for none.
        num_classes: `None` for an unconditional model, else the number of
            classes of the label input.
        num_heads: heads of the self-attention blocks.
        groups: groups of the GroupNormalization layers.
        dropout: dropout rate inside the residual blocks.
        memory_efficient: whether the self-attention over the pixels uses
            exact attention in memory linear in their number
            (`MultiHeadAttention(memory_efficient=True)`, docs/attention.md).
        context_shape: `None`, or `(length, dim)` of a float context
            sequence attended to by cross-attention in every attention
            block; excludes `num_classes`.
        context_mask: with `context_shape`, whether the network also takes
            a padding mask of the context (1 = real token, 0 = padding).
        name: name of the model.

    Returns:
        An uncompiled `keras.Model` with inputs `[x_t, t]` (images and int32
        timesteps shaped `(batch,)`), `[x_t, t, label]`, `[x_t, t, context]`
        or `[x_t, t, context, context_mask]` and output the predicted
        noise, shaped like `x_t`.

    Examples:

        >>> net = build_diffusion_unet(
        ...     (8, 8, 1), base_filters=8, channel_multipliers=(1, 2),
        ...     num_classes=3)
        >>> [tuple(i.shape) for i in net.inputs]
        [(None, 8, 8, 1), (None,), (None,)]
        >>> tuple(net.output.shape)
        (None, 8, 8, 1)
        >>> net = build_diffusion_unet(
        ...     (8, 8, 1), base_filters=8, channel_multipliers=(1,),
        ...     context_shape=(2, 5), context_mask=True)
        >>> [tuple(i.shape) for i in net.inputs]
        [(None, 8, 8, 1), (None,), (None, 2, 5), (None, 2)]
    """
    image_shape, multipliers, attention_resolutions = _check_arguments(
        image_shape,
        base_filters,
        channel_multipliers,
        num_res_blocks,
        attention_resolutions,
        num_classes,
        num_heads,
        groups,
        dropout,
    )

    args.boolean("memory_efficient", memory_efficient)
    context_shape = _check_context(context_shape, context_mask, num_classes)
    blocks = _Blocks(groups, num_heads, dropout, memory_efficient)
    x_t = keras.Input(image_shape, name="x_t")
    t = keras.Input((), dtype="int32", name="t")
    inputs = [x_t, t]
    temb = TimestepEmbedding(4 * base_filters, name="timestep_embedding")(t)
    if num_classes is not None:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        temb = keras.layers.Add(name="conditioning")(
            [
                temb,
                keras.layers.Embedding(
                    num_classes + 1, 4 * base_filters, name="label_embedding"
                )(label),
            ]
        )
    if context_shape is not None:
        inputs.append(keras.Input(context_shape, name="context"))
        blocks.context = inputs[-1]
        if context_mask:
            inputs.append(keras.Input(context_shape[:1], name="context_mask"))
            blocks.context_mask = inputs[-1]
    temb = keras.layers.Activation("swish")(temb)

    h = keras.layers.Conv2D(base_filters, 3, padding="same", name="stem")(x_t)
    skips = [h]
    size = image_shape[0]
    for level, mult in enumerate(multipliers):
        for _ in range(num_res_blocks):
            h = blocks.residual(h, temb, base_filters * mult)
            if size in attention_resolutions:
                h = blocks.attention(h)
            skips.append(h)
        if level < len(multipliers) - 1:
            h = keras.layers.Conv2D(h.shape[-1], 3, strides=2, padding="same")(
                h
            )
            size //= 2
            skips.append(h)

    h = blocks.residual(h, temb, h.shape[-1])
    h = blocks.attention(h)
    h = blocks.residual(h, temb, h.shape[-1])

    for level, mult in reversed(list(enumerate(multipliers))):
        for _ in range(num_res_blocks + 1):
            h = keras.layers.Concatenate()([h, skips.pop()])
            h = blocks.residual(h, temb, base_filters * mult)
            if size in attention_resolutions:
                h = blocks.attention(h)
        if level > 0:
            h = keras.layers.UpSampling2D(2, interpolation="nearest")(h)
            h = keras.layers.Conv2D(h.shape[-1], 3, padding="same")(h)
            size *= 2

    h = keras.layers.GroupNormalization(groups)(h)
    h = keras.layers.Activation("swish")(h)
    out = keras.layers.Conv2D(
        image_shape[-1],
        3,
        padding="same",
        name="noise",
        dtype="float32",
    )(h)
    return keras.Model(inputs, out, name=name)


def _check_arguments(
    image_shape,
    base_filters,
    channel_multipliers,
    num_res_blocks,
    attention_resolutions,
    num_classes,
    num_heads,
    groups,
    dropout,
):
    """Checks every argument, naming it; returns the shape and sizes."""
    image_shape = args.image_shape(image_shape, "image_shape")
    for arg, value in (
        ("base_filters", base_filters),
        ("num_res_blocks", num_res_blocks),
        ("num_heads", num_heads),
        ("groups", groups),
    ):
        args.positive_int(arg, value)
    multipliers = args.positive_ints("channel_multipliers", channel_multipliers)
    attention_resolutions = args.positive_ints_or_empty(
        "attention_resolutions", attention_resolutions
    )
    if num_classes is not None:
        args.positive_int("num_classes", num_classes)
    args.rate("dropout", dropout)
    channels = [base_filters * m for m in multipliers]
    if any(c % groups for c in channels):
        raise ValueError(
            f"Argument `groups` must divide every level's channels "
            f"{channels}. Received: groups={groups}"
        )
    args.image_sides(
        "image_shape",
        image_shape,
        multiple=2 ** (len(multipliers) - 1),
        why=f" for {len(multipliers)} levels",
    )
    # The middle block always attends, at the last level's channels.
    attended = [channels[-1]] + [
        c
        for level, c in enumerate(channels)
        if image_shape[0] // 2**level in attention_resolutions
    ]
    if num_heads > min(attended):
        raise ValueError(
            "Argument `num_heads` must be at most the channels of every "
            f"attention block ({min(attended)}). "
            f"Received: num_heads={num_heads}"
        )
    return image_shape, multipliers, attention_resolutions


def _check_context(context_shape, context_mask, num_classes):
    """Checks the cross-attention arguments; returns the context shape."""
    args.boolean("context_mask", context_mask)
    if context_shape is None:
        if context_mask:
            raise ValueError(
                "Argument `context_mask` needs a `context_shape`. Received: "
                "context_mask=True with context_shape=None"
            )
        return None
    context_shape = args.positive_ints("context_shape", context_shape, 2)
    if num_classes is not None:
        raise ValueError(
            "Arguments `num_classes` and `context_shape` exclude each other "
            "(a label is a one-token context: pass its one-hot or embedding "
            f"as the context). Received: num_classes={num_classes}, "
            f"context_shape={context_shape}"
        )
    return context_shape


class _Blocks:
    """Factories of the U-Net's repeated blocks (functional layers).

    With a `context` tensor set, the attention blocks are spatial
    transformers attending to it.
    """

    def __init__(self, groups, num_heads, dropout, memory_efficient):
        self.groups = groups
        self.num_heads = num_heads
        self.dropout = dropout
        self.memory_efficient = memory_efficient
        self.context = None
        self.context_mask = None

    def residual(self, x, temb, filters):
        h = keras.layers.GroupNormalization(self.groups)(x)
        h = keras.layers.Activation("swish")(h)
        h = keras.layers.Conv2D(filters, 3, padding="same")(h)
        shift = keras.layers.Dense(filters)(temb)
        h = keras.layers.Add()(
            [h, keras.layers.Reshape((1, 1, filters))(shift)]
        )
        h = keras.layers.GroupNormalization(self.groups)(h)
        h = keras.layers.Activation("swish")(h)
        if self.dropout:
            h = keras.layers.Dropout(self.dropout)(h)
        h = keras.layers.Conv2D(filters, 3, padding="same")(h)
        if x.shape[-1] != filters:
            x = keras.layers.Conv2D(filters, 1)(x)
        return keras.layers.Add()([x, h])

    def _mha(self, channels):
        return MultiHeadAttention(
            self.num_heads,
            channels // self.num_heads,
            memory_efficient=self.memory_efficient,
        )

    def attention(self, x):
        if self.context is not None:
            return self.spatial_transformer(x)
        height, width, channels = x.shape[1:]
        h = keras.layers.GroupNormalization(self.groups)(x)
        h = keras.layers.Reshape((height * width, channels))(h)
        h = self._mha(channels)(h, h)
        h = keras.layers.Reshape((height, width, channels))(h)
        return keras.layers.Add()([x, h])

    def spatial_transformer(self, x):
        """The transformer block of Rombach et al. (2022) over the pixels."""
        height, width, channels = x.shape[1:]
        h = keras.layers.GroupNormalization(self.groups)(x)
        h = keras.layers.Reshape((height * width, channels))(h)
        s = keras.layers.Dense(channels)(h)
        n = keras.layers.LayerNormalization(epsilon=1e-5)(s)
        s = keras.layers.Add()([s, self._mha(channels)(n, n)])
        n = keras.layers.LayerNormalization(epsilon=1e-5)(s)
        cross = self._mha(channels)
        c = cross(n, self.context, value_mask=self.context_mask)
        s = keras.layers.Add()([s, c])
        n = keras.layers.LayerNormalization(epsilon=1e-5)(s)
        f = keras.layers.Dense(4 * channels, activation="gelu")(n)
        s = keras.layers.Add()([s, keras.layers.Dense(channels)(f)])
        s = keras.layers.Dense(channels)(s)
        s = keras.layers.Reshape((height, width, channels))(s)
        return keras.layers.Add()([x, s])
