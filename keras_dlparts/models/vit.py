"""The Vision Transformer (Dosovitskiy et al., 2021) image classifier."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.patches import ClassToken
from keras_dlparts.layers.patches import PatchEmbedding
from keras_dlparts.layers.positional import LearnedPositionalEmbedding
from keras_dlparts.layers.transformer import TransformerEncoderBlock
from keras_dlparts.models.transformer_classifier import check_encoder_stack


def build_vit(
    image_shape,
    patch_size,
    num_classes,
    *,
    embedding_dim=64,
    num_heads=4,
    intermediate_dim=128,
    num_layers=2,
    dropout=0.1,
    activation="gelu",
    score="scaled_dot",
    memory_efficient=False,
    name="vit",
):
    """Builds a Vision Transformer classifier.

    ```
    z_0 = [c; x_1 E; ...; x_N E] + P     # PatchEmbedding, ClassToken, positions
    z_l = TransformerEncoderBlock(z_{l-1}, norm_first=True), l = 1..L
    p   = softmax(LayerNorm(z_L)[0] W + b)   # the [class] token's final state
    ```

    Args:
        image_shape: `(height, width, channels)`; `patch_size` must divide
            height and width.
        patch_size: an int or a `(p_h, p_w)` pair.
        num_classes: number of classes.
        embedding_dim: width of the model; divisible by `num_heads`.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward width per block.
        num_layers: number of (pre-norm) encoder blocks.
        dropout: dropout rate after the embeddings and inside the blocks.
        activation: feed-forward activation (`"gelu"` as in the paper).
        score: attention score, see `keras_dlparts.layers.MultiHeadAttention`.
        memory_efficient: whether the attention layers use exact attention
            in memory linear in the length
            (`MultiHeadAttention(memory_efficient=True)`, docs/attention.md).
        name: the model's name.

    Returns:
        An uncompiled `keras.Model` mapping images to float32 class
        probabilities; train it with `sparse_categorical_crossentropy`.

    Examples:

        >>> model = build_vit((8, 8, 1), 4, 10, embedding_dim=16, num_heads=2,
        ...                   intermediate_dim=32, num_layers=1)
        >>> model.output_shape
        (None, 10)
    """
    image_shape = args.image_shape(image_shape, "image_shape")
    if isinstance(patch_size, (list, tuple)):
        args.positive_ints("patch_size", patch_size, length=2)
    else:
        args.positive_int("patch_size", patch_size)
    check_encoder_stack(
        num_classes,
        embedding_dim,
        num_heads,
        intermediate_dim,
        num_layers,
        dropout,
        score,
    )
    args.boolean("memory_efficient", memory_efficient)
    args.keras_lookup("activation", activation, "activations")

    images = keras.Input(image_shape, name="images")
    # PatchEmbedding validates `patch_size` against the image size.
    x = PatchEmbedding(patch_size, embedding_dim, name="patch_embedding")(
        images
    )
    num_patches = x.shape[1]
    x = ClassToken(name="class_token")(x)
    x = LearnedPositionalEmbedding(
        num_patches + 1,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
        name="position_embedding",
    )(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for index in range(num_layers):
        x = TransformerEncoderBlock(
            num_heads,
            intermediate_dim,
            dropout=dropout,
            activation=activation,
            norm_first=True,
            score=score,
            memory_efficient=memory_efficient,
            name=f"encoder_block_{index}",
        )(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    # The [class] token's state: keep position 0 and drop the rest.
    x = keras.layers.Cropping1D((0, num_patches), name="class_token_state")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(images, outputs, name=name)
