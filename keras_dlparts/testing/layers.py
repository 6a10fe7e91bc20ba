"""The contract for layers: `check_layer`.

The layer is checked on its own (shapes, reference numbers, config,
gradients) and inside a small functional model (saving and training, with
the checks of `keras_dlparts.testing.models` and
`keras_dlparts.testing.harness.training_checks`).
"""

import keras
import numpy as np

from keras_dlparts.testing import harness
from keras_dlparts.testing import models

#: The checks `check_layer` runs, in order.
LAYER_CHECKS = (
    "output_shape",
    "reference",
    "config",
    "keras_file",
    "checkpoint",
    *harness.TRAINING_CHECKS,
    "gradients",
)


def _as_tuple(inputs):
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    return (inputs,)


def _layer_model(layer_cls, init_kwargs, inputs, call_kwargs, head):
    """A functional model: Input(s) -> layer -> optional Dense head."""
    symbolic = [
        keras.Input(shape=np.shape(x)[1:], dtype=str(np.asarray(x).dtype))
        for x in inputs
    ]
    layer = layer_cls(**init_kwargs)
    outputs = layer(*symbolic, **call_kwargs)
    if head:
        outputs = keras.tree.map_structure(
            lambda t: keras.layers.Dense(t.shape[-1], name=None)(t), outputs
        )
    model_inputs = symbolic[0] if len(symbolic) == 1 else symbolic
    return keras.Model(model_inputs, outputs)


def _check_output_shape(layer, inputs, call_kwargs, expected_dtype):
    outputs = layer(*inputs, **call_kwargs)
    shapes = [tuple(np.shape(x)) for x in inputs]
    declared = layer.compute_output_shape(*shapes)
    flat_out = keras.tree.flatten(outputs)
    declared = list(_shape_list(declared))
    if len(declared) != len(flat_out):
        raise AssertionError(
            f"compute_output_shape declares {len(declared)} outputs, the "
            f"call returned {len(flat_out)}"
        )
    for d, out in zip(declared, flat_out):
        actual = tuple(out.shape)
        if tuple(d) != actual:
            raise AssertionError(
                f"compute_output_shape{tuple(shapes)} returned {tuple(d)}, "
                f"the call returned shape {actual}"
            )
    want = expected_dtype or layer.compute_dtype
    first = flat_out[0]
    if keras.backend.standardize_dtype(first.dtype) != want:
        raise AssertionError(
            f"output dtype is {keras.backend.standardize_dtype(first.dtype)}, "
            f"expected {want}"
        )


def _shape_list(declared):
    """Flattens a nest of shape tuples into a list of shapes."""
    if isinstance(declared, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in declared
    ):
        yield tuple(declared)
        return
    if isinstance(declared, dict):
        declared = list(declared.values())
    for item in declared:
        yield from _shape_list(item)


def _check_config(layer_cls, layer, init_kwargs, inputs, call_kwargs):
    config = harness.check_config_keys(layer)
    for name, value in init_kwargs.items():
        if (
            isinstance(value, harness.PLAIN_TYPES + (list, tuple))
            and name in config
        ):
            if not harness.same_setting(value, config[name]):
                raise AssertionError(
                    f"get_config()[{name!r}] is {config[name]!r}, the layer "
                    f"was built with {value!r}"
                )
    clone = layer_cls.from_config(config)
    harness.check_same_config(clone, config)
    clone(*inputs, **call_kwargs)
    clone.set_weights(layer.get_weights())
    harness.assert_close(
        harness.to_numpy(clone(*inputs, **call_kwargs)),
        harness.to_numpy(layer(*inputs, **call_kwargs)),
        1e-6,
        1e-6,
        "layer rebuilt from its config",
    )


def check_layer(
    layer_cls,
    init_kwargs,
    inputs,
    *,
    call_kwargs=None,
    reference=None,
    atol=1e-5,
    rtol=1e-5,
    expected_output_dtype=None,
    targets=None,
    loss="mse",
    learning_rate=1e-2,
    epochs=5,
    batch_size=None,
    only=None,
    skip=None,
):
    """Runs the whole keras_dlparts contract on a layer class.

    Checks (see `LAYER_CHECKS` and docs/contract.md): `output_shape`,
    `reference`, `config`, `keras_file`, `checkpoint`, `fit`, `fit_jit`,
    `fit_distributed`, `mixed_precision` and `gradients`, on the active
    backend (TensorFlow or JAX).

    Args:
        layer_cls: the layer class under test.
        init_kwargs: dict of constructor arguments.
        inputs: one NumPy array, or a tuple of arrays passed positionally to
            `call`. The first axis is the batch.
        call_kwargs: dict of extra, non-tensor call arguments.
        reference: `None` or a callable `(layer, *inputs) -> expected`
            giving the outputs from an independent implementation (NumPy
            written from the formula, or the Keras peer) for the built
            `layer`, whose weights it may read.
        atol, rtol: tolerances for `reference`.
        expected_output_dtype: dtype of the output; defaults to the layer's
            compute dtype.
        targets: training targets for the fit checks; defaults to random
            normal values shaped like the outputs.
        loss: loss for the fit checks.
        learning_rate, epochs, batch_size: the fit checks' Adam run (the
            batch defaults to all of `inputs`; on JAX, `fit_distributed`
            rounds it down to an even number, see `check_model`).
        only, skip: restrict the checks run (names from `LAYER_CHECKS`);
            for debugging a part, not for hiding a failure.

    Raises:
        ContractError: listing every failed check by name.

    Examples:

        >>> import numpy as np, keras
        >>> from keras_dlparts.testing import check_layer
        >>> check_layer(keras.layers.Dense, {"units": 3},
        ...             np.ones((4, 2), "float32"),
        ...             reference=lambda layer, x: x @ layer.kernel.numpy()
        ...             + layer.bias.numpy(),
        ...             only=["output_shape", "reference"])
    """
    inputs = _as_tuple(inputs)
    call_kwargs = dict(call_kwargs or {})
    init_kwargs = dict(init_kwargs)
    subject = f"{layer_cls.__name__}({harness.describe(init_kwargs)})"

    layer = layer_cls(**init_kwargs)
    outputs = harness.to_numpy(layer(*inputs, **call_kwargs))
    head = not layer.trainable_weights
    if targets is None:
        targets = harness.float_random_like(outputs, seed=1)
    batch = batch_size or len(inputs[0])
    x = inputs[0] if len(inputs) == 1 else list(inputs)
    case = harness.Case(
        lambda: _layer_model(layer_cls, init_kwargs, inputs, call_kwargs, head),
        x,
        targets,
        loss,
        learning_rate,
        epochs,
        batch,
    )
    projection = harness.float_random_like(outputs, seed=2)

    def weighted_output_sum():
        return harness.projected_sum(
            layer(*inputs, training=True, **call_kwargs), projection
        )

    def reference_check():
        if reference is None:
            return
        expected = reference(layer, *inputs)
        harness.assert_close(outputs, expected, atol, rtol, "reference")

    checks = {
        "output_shape": lambda: _check_output_shape(
            layer_cls(**init_kwargs), inputs, call_kwargs, expected_output_dtype
        ),
        "reference": reference_check,
        "config": lambda: _check_config(
            layer_cls, layer, init_kwargs, inputs, call_kwargs
        ),
        "keras_file": lambda: models.check_keras_file(case),
        "checkpoint": lambda: models.check_checkpoint(case),
        **harness.training_checks(case, outputs, harness.LAYER_FIT_POLICIES),
        "gradients": lambda: harness.check_gradients(
            layer, weighted_output_sum
        ),
    }
    harness.run_checks(subject, checks, only, skip)
