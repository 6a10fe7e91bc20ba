"""Model-parallel layouts of transformer weights for `keras.distribution`."""

import keras

from keras_dlparts import _validation as args

# Megatron-style tensor parallelism (Shoeybi et al., 2019), as regular
# expressions over variable paths (`variable.path`). The paths are those of
# `keras_dlparts.layers.MultiHeadAttention` (the same as
# `keras.layers.MultiHeadAttention`: `<attention>/query/kernel`, ...) and of
# the feed-forward `Dense` layers of the transformer blocks
# (`<block>/feedforward_inner/kernel`, `<block>/feedforward_outer/kernel`).
# `model` stands for the model-parallel mesh axis, `None` for a replicated
# dimension.
_RULES = (
    # Query, key and value projections, kernels (hidden, heads, head_dim):
    # each device holds whole heads (split on the output side).
    (r".*/(query|key|value)/kernel", (None, "model", None)),
    (r".*/(query|key|value)/bias", ("model", None)),
    # Output projection (heads, head_dim, hidden): split on its input, the
    # heads; its bias is added after the sum over heads, so it is replicated.
    (r".*/attention_output/kernel", ("model", None, None)),
    # Per-head weights of the non-default attention scores follow the heads.
    (
        r".*/(general_kernel|additive_query_kernel|additive_key_kernel)",
        ("model", None, None),
    ),
    (r".*/additive_vector", ("model", None)),
    (r".*/cosine_scale", ("model",)),
    # Feed-forward network: the first kernel (hidden, intermediate) is split
    # on its output, with its bias; the second (intermediate, hidden) on its
    # input, with its bias replicated.
    (r".*/feedforward_inner/kernel", (None, "model")),
    (r".*/feedforward_inner/bias", ("model",)),
    (r".*/feedforward_outer/kernel", ("model", None)),
)


def transformer_layout_map(device_mesh, model_axis="model"):
    """Returns a `LayoutMap` that shards transformer weights over `model_axis`.

    The map serves `keras.distribution.ModelParallel` (JAX backend) for every
    model built from `keras_dlparts.layers.TransformerEncoderBlock`,
    `TransformerDecoderBlock` and `MultiHeadAttention`
    (`build_transformer_classifier`, `build_seq2seq_transformer`,
    `build_vit`, ...). Like the `get_layout_map` of keras-hub backbones, it
    splits the weights Megatron-style, so that each device computes whole
    attention heads and a slice of the feed-forward hidden units:

    - query, key and value kernels `(hidden, heads, head_dim)` on the heads,
      `(None, model_axis, None)`, and their biases `(model_axis, None)`;
    - the attention output kernel `(heads, head_dim, hidden)` on the heads,
      `(model_axis, None, None)` (its bias is replicated);
    - the per-head weights of the scores `"general"`, `"additive"` and
      `"cosine"` on the heads;
    - the first feed-forward kernel `(hidden, intermediate)` on its output,
      `(None, model_axis)`, and its bias `(model_axis,)`;
    - the second feed-forward kernel `(intermediate, hidden)` on its input,
      `(model_axis, None)` (its bias is replicated).

    Every other variable (embeddings, layer norms, classifier heads) is
    replicated; optimizer slots (e.g. Adam's moments) take the layout of
    their variable. `num_heads`
    and `intermediate_dim` must be divisible by the size of `model_axis`.
    Each variable path matches at most one key. The keys are regular
    expressions over `variable.path`, so more entries (e.g. for embeddings)
    can be added to the returned map.

    Args:
        device_mesh: a `keras.distribution.DeviceMesh` with an axis named
            `model_axis` (and usually a data-parallel axis too).
        model_axis: name of the mesh axis the weights are split over.

    Returns:
        A `keras.distribution.LayoutMap` over `device_mesh`.

    Examples:

        >>> mesh = keras.distribution.DeviceMesh(
        ...     shape=(1, 2), axis_names=("batch", "model"),
        ...     devices=["cpu:0", "cpu:1"])
        >>> layout_map = transformer_layout_map(mesh)
        >>> layout_map["encoder_block_0/self_attention/query/kernel"].axes
        (None, 'model', None)
        >>> layout_map["encoder_block_0/feedforward_outer/kernel"].axes
        ('model', None)
        >>> print(layout_map["encoder_block_0/self_attention_norm/gamma"])
        None

        Training with it on the JAX backend, e.g. over 8 devices, 4-way
        model parallel and 2-way data parallel:

        ```python
        mesh = keras.distribution.DeviceMesh(
            (2, 4), ("batch", "model"), keras.distribution.list_devices())
        keras.distribution.set_distribution(keras.distribution.ModelParallel(
            layout_map=transformer_layout_map(mesh), batch_dim_name="batch"))
        model = build_transformer_classifier((64, 32), 10, num_heads=8)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64)
        ```
    """
    args.keras_object("device_mesh", device_mesh, keras.distribution.DeviceMesh)
    args.string("model_axis", model_axis)
    args.one_of("model_axis", model_axis, tuple(device_mesh.axis_names))
    layout_map = keras.distribution.LayoutMap(device_mesh)
    for pattern, axes in _RULES:
        layout_map[pattern] = tuple(
            model_axis if a == "model" else a for a in axes
        )
    return layout_map
