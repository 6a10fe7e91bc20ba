"""LSTM cell with optional layer normalisation and peephole connections."""

import keras
from keras import ops

from keras_dlparts._validation import boolean
from keras_dlparts._validation import fraction
from keras_dlparts._validation import initializer
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import state_list


def _keras_dropout_cell_mixin():
    """Keras's `DropoutRNNCell` mixin, from the public `keras.layers.LSTMCell`.

    `keras.layers.RNN` gives a cell one dropout mask per sequence (drawn
    before the first step, reset after the last) only when the cell is an
    instance of this mixin, which Keras does not export; there is no
    public equivalent. It is found among the bases of Keras's own
    `LSTMCell` (no `keras.src` import); `tests/layers/test_lstm.py`
    fails with a clear message if Keras changes it.
    """
    for base in keras.layers.LSTMCell.__mro__:
        if base.__name__ == "DropoutRNNCell":
            return base
    raise ImportError(
        "keras.layers.LSTMCell no longer derives from Keras's "
        "DropoutRNNCell mixin, which keras_dlparts.layers.LSTMCell needs "
        f"for per-sequence dropout masks (Keras {keras.__version__})."
    )


DropoutRNNCell = _keras_dropout_cell_mixin()


@keras.saving.register_keras_serializable(package="keras_dlparts")
class LSTMCell(keras.layers.Layer, DropoutRNNCell):
    """Long short-term memory cell with layer-norm and peephole options.

    One step of the LSTM, for use inside `keras.layers.RNN` (and
    `keras.layers.Bidirectional` around it). With `z = x_t W + h_{t-1} U + b`
    split into the gates in Keras's order `(i, f, c, o)`:

    ```
    i_t  = sigmoid(z_i + p_i * C_{t-1})
    f_t  = sigmoid(z_f + p_f * C_{t-1})
    C~_t = tanh(z_c)
    C_t  = f_t * C_{t-1} + i_t * C~_t
    o_t  = sigmoid(z_o + p_o * C_t)
    h_t  = o_t * tanh(C_t)
    ```

    The peephole terms `p_* * C` (element-wise, Gers & Schmidhuber) are
    present only with `peephole=True`. With `layer_norm=True` the cell
    follows the layer-normalised LSTM of Ba et al. as TensorFlow Addons'
    `LayerNormLSTMCell` did: `z = LN(x_t W) + LN(h_{t-1} U) + b` (each
    normalised over its `4 * units` features), and the new cell state is
    normalised, `C_t <- LN(C_t)`, before `h_t` is computed and carried.

    With both options off the cell computes exactly what
    `keras.layers.LSTMCell` computes, with the same weights (`kernel`,
    `recurrent_kernel`, `bias`, gates in the order i, f, c, o), so weights
    can be copied between the two.

    Args:
        units: positive integer, dimensionality of the output and states.
        layer_norm: boolean, whether to layer-normalise the input and
            recurrent projections and the cell state.
        peephole: boolean, whether the gates see the cell state through
            diagonal peephole weights.
        activation: activation of the candidate and the output (`tanh`).
        recurrent_activation: activation of the gates (`sigmoid`).
        use_bias: boolean, whether the cell uses a bias vector.
        kernel_initializer: initializer of the input kernel.
        recurrent_initializer: initializer of the recurrent kernel.
        bias_initializer: initializer of the bias.
        peephole_initializer: initializer of the peephole weights.
        unit_forget_bias: boolean, add 1 to the forget-gate bias at
            initialisation (forces `bias_initializer="zeros"` for the rest,
            as in Keras).
        kernel_regularizer: optional regularizer of the input kernel.
        recurrent_regularizer: optional regularizer of the recurrent kernel.
        bias_regularizer: optional regularizer of the bias.
        kernel_constraint: optional constraint of the input kernel.
        recurrent_constraint: optional constraint of the recurrent kernel.
        bias_constraint: optional constraint of the bias.
        dropout: float in [0, 1], fraction of the inputs dropped (one mask
            per sequence).
        recurrent_dropout: float in [0, 1], fraction of `h_{t-1}` dropped
            (one mask per sequence).
        layer_norm_epsilon: small float added to the variance in the layer
            normalisation.
        seed: integer seed of the dropout masks.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: a 2D tensor `(batch, features)`, the step input.
        states: list `[h_{t-1}, C_{t-1}]`, each `(batch, units)`.
        training: Python boolean, whether dropout is applied.

    Returns:
        `(h_t, [h_t, C_t])`.

    Examples:

        >>> import numpy as np, keras
        >>> from keras_dlparts.layers import LSTMCell
        >>> rnn = keras.layers.RNN(LSTMCell(4, layer_norm=True, peephole=True))
        >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
        (2, 4)
    """

    def __init__(
        self,
        units,
        layer_norm=False,
        peephole=False,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        peephole_initializer="glorot_uniform",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        layer_norm_epsilon=1e-3,
        seed=None,
        **kwargs,
    ):
        positive_int("units", units)
        for name, value in (
            ("layer_norm", layer_norm),
            ("peephole", peephole),
            ("use_bias", use_bias),
            ("unit_forget_bias", unit_forget_bias),
        ):
            boolean(name, value)
        fraction("dropout", dropout)
        fraction("recurrent_dropout", recurrent_dropout)
        positive_number("layer_norm_epsilon", layer_norm_epsilon)
        random_seed("seed", seed)
        super().__init__(**kwargs)
        self.units = units
        self.layer_norm = layer_norm
        self.peephole = peephole
        self.activation = keras_lookup("activation", activation, "activations")
        self.recurrent_activation = keras_lookup(
            "recurrent_activation", recurrent_activation, "activations"
        )
        self.use_bias = use_bias
        for name, value in (
            ("kernel_initializer", kernel_initializer),
            ("recurrent_initializer", recurrent_initializer),
            ("bias_initializer", bias_initializer),
            ("peephole_initializer", peephole_initializer),
        ):
            setattr(self, name, initializer(name, value))
        self.unit_forget_bias = unit_forget_bias
        for kind, values in (
            (
                "regularizers",
                (kernel_regularizer, recurrent_regularizer, bias_regularizer),
            ),
            (
                "constraints",
                (kernel_constraint, recurrent_constraint, bias_constraint),
            ),
        ):
            for part, value in zip(("kernel", "recurrent", "bias"), values):
                name = f"{part}_{kind[:-1]}"
                setattr(self, name, keras_lookup(name, value, kind))
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "Input `inputs` must be a step input of shape (batch, "
                "features) with known features. Received: "
                f"inputs.shape={tuple(input_shape)}"
            )
        input_dim = input_shape[-1]
        units = self.units
        self.kernel = self.add_weight(
            shape=(input_dim, 4 * units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(units, 4 * units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(4 * units,),
                name="bias",
                initializer=self._bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        if self.peephole:
            self.input_peephole, self.forget_peephole, self.output_peephole = (
                self.add_weight(
                    shape=(units,),
                    name=f"{gate}_peephole",
                    initializer=self.peephole_initializer,
                )
                for gate in ("input", "forget", "output")
            )
        if self.layer_norm:
            for part, size in (
                ("kernel", 4 * units),
                ("recurrent", 4 * units),
                ("state", units),
            ):
                for suffix, init in (("gamma", "ones"), ("beta", "zeros")):
                    name = f"{part}_norm_{suffix}"
                    setattr(
                        self,
                        name,
                        self.add_weight(
                            shape=(size,), name=name, initializer=init
                        ),
                    )
        self.built = True

    def _bias_initializer(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        return ops.concatenate(
            [
                self.bias_initializer((units,), dtype=dtype),
                ops.ones((units,), dtype=dtype),
                self.bias_initializer((2 * units,), dtype=dtype),
            ]
        )

    def _normalize(self, x, part):
        """Layer normalisation over the last axis, computed in float32."""
        gamma = getattr(self, f"{part}_norm_gamma")
        beta = getattr(self, f"{part}_norm_beta")
        x32 = ops.cast(x, "float32")
        mean = ops.mean(x32, axis=-1, keepdims=True)
        variance = ops.var(x32, axis=-1, keepdims=True)
        x32 = (x32 - mean) * ops.rsqrt(variance + self.layer_norm_epsilon)
        x32 = x32 * ops.cast(gamma, "float32") + ops.cast(beta, "float32")
        return ops.cast(x32, x.dtype)

    def call(self, inputs, states, training=False):
        state_list("states", states, self.state_size, ("inputs", inputs))
        if inputs.shape[0] == 0:
            # An empty batch: TensorFlow's CPU matmul and BiasAdd refuse it.
            empty = ops.zeros((0, self.units), self.compute_dtype)
            return empty, [empty, empty]
        h_tm1, c_tm1 = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)

        x_part = ops.matmul(inputs, self.kernel)
        h_part = ops.matmul(h_tm1, self.recurrent_kernel)
        if self.layer_norm:
            x_part = self._normalize(x_part, "kernel")
            h_part = self._normalize(h_part, "recurrent")
        # ops.add (not `+`) lowers a bias to BiasAdd, as in Keras's cell.
        z = ops.add(x_part, h_part)
        if self.use_bias:
            z = ops.add(z, self.bias)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)

        if self.peephole:
            z_i = z_i + self.input_peephole * c_tm1
            z_f = z_f + self.forget_peephole * c_tm1
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        if self.layer_norm:
            c = self._normalize(c, "state")
        if self.peephole:
            z_o = z_o + self.output_peephole * c
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [
            ops.zeros((batch_size, size), dtype=self.compute_dtype)
            for size in self.state_size
        ]

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        config = {
            "units": self.units,
            "layer_norm": self.layer_norm,
            "peephole": self.peephole,
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(
                self.recurrent_activation
            ),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "peephole_initializer": serialize(self.peephole_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "recurrent_regularizer": serialize(self.recurrent_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "recurrent_constraint": serialize(self.recurrent_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
