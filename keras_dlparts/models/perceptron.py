"""A perceptron classifier trained by the perceptron learning rule."""

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import check_rank
from keras_dlparts._validation import concrete_value
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import positive_number
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import values_in
from keras_dlparts.layers.perceptron import Perceptron
from keras_dlparts.models._resume import BuildOnFit
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._stateful_step import StatefulStep


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PerceptronClassifier(BuildOnFit, SeedState, StatefulStep, keras.Model):
    """Rosenblatt's perceptron, trained by `fit(x, y)` with its own rule.

    Predicts `f(x W + b)` with the step `f` (`keras_dlparts.layers.Perceptron`)
    and learns by the perceptron rule instead of an optimizer:

        w_i += lr * sum_batch (a - f(x)) * x_i,   b += lr * sum_batch (a - f(x))

    where `a` in {0, 1} is the target (one per unit). `fit` and `evaluate`
    refuse other targets when they are given as values (NumPy arrays,
    lists, eager tensors); from a `tf.data.Dataset` or a generator they
    reach the compiled step unchecked, where a target `a` outside {0, 1}
    moves the weights by `lr * (a - f(x)) * x`, which is not the perceptron
    rule (map labels in {-1, 1} to {0, 1} with `(y + 1) / 2` first).
    With `batch_size=1` this is the classic online rule, which converges
    on linearly separable data (AND,
    OR) and never on data that is not (XOR: no line separates it, so at
    most 3 of its 4 points are ever right). `fit` and `evaluate` report the
    `loss` (share of wrong outputs, before the batch's update) and the
    `accuracy`. Under `tf.distribute` the replicas' updates are averaged.

    The input size comes from the data: `fit` on an array builds the
    model first, so `keras.callbacks.BackupAndRestore` can resume its
    training; to resume `fit` on a dataset, call
    `model.build((None, input_dim))` first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        units: number of output units (independent binary outputs).
        learning_rate: `lr`, a positive number.
        kernel_initializer: initializer of the weights (zeros by default,
            as in the textbook rule).
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, features)`.

    Returns:
        0.0 / 1.0 outputs shaped `(batch, units)`.

    Examples:

        >>> import numpy as np
        >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
        >>> model = PerceptronClassifier()
        >>> model.compile()
        >>> _ = model.fit(x, np.array([0, 1, 1, 1]), batch_size=1, epochs=5,
        ...               verbose=0)
        >>> np.asarray(model(x)).ravel().tolist()  # logical OR
        [0.0, 1.0, 1.0, 1.0]
    """

    def __init__(
        self,
        units=1,
        learning_rate=1.0,
        kernel_initializer="zeros",
        **kwargs,
    ):
        positive_number("learning_rate", learning_rate)
        super().__init__(**kwargs)
        self.perceptron = Perceptron(
            units, kernel_initializer=kernel_initializer, name="perceptron"
        )
        self.units = units
        self.learning_rate = float(learning_rate)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

    def build(self, input_shape):
        if not self.perceptron.built:
            self.perceptron.build(input_shape)
            self.perceptron.built = True
        self.built = True

    def call(self, inputs):
        check_rank("inputs", inputs, 2)
        return self.perceptron(inputs)

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, with concrete targets `y` checked to be 0 or 1."""
        self._check_targets(x, y)
        return super().fit(x, y, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate`; concrete targets `y` must be 0 or 1."""
        self._check_targets(x, y)
        return super().evaluate(x, y, **kwargs)

    def _check_targets(self, x, y):
        """Refuses concrete targets outside {0, 1} or of the wrong shape."""
        values = concrete_value(y)
        if values is None:  # a dataset, a generator, a symbolic tensor
            return
        same_batch_size(("x", x), ("y", values))
        data_batch("y", values)
        if int(np.prod(values.shape[1:])) != self.units:
            raise ValueError(
                f"Argument `y` must hold {self.units} target(s) per example "
                f"(units={self.units}). Received: y.shape={values.shape}"
            )
        values_in(
            "y",
            values,
            (0, 1),
            "targets 0 or 1 (map labels in {-1, 1} with (y + 1) / 2)",
        )

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def _outputs_and_targets(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(
                "PerceptronClassifier needs targets: call fit(x, y) with "
                "y in {0, 1}. Received: y=None"
            )
        outputs = ops.cast(self(x), "float32")
        targets = ops.reshape(ops.cast(y, "float32"), ops.shape(outputs))
        return x, outputs, targets

    def _report(self, outputs, targets):
        wrong = ops.mean(ops.abs(targets - outputs), axis=-1)
        self.loss_tracker.update_state(wrong)
        self.accuracy_tracker.update_state(1.0 - wrong)
        return {m.name: m.result() for m in self.metrics}

    def stateful_train_step(self, data):
        x, outputs, targets = self._outputs_and_targets(data)
        error = targets - outputs
        x = ops.cast(x, "float32")
        self.perceptron.kernel.assign_add(
            self.learning_rate * ops.matmul(ops.transpose(x), error)
        )
        self.perceptron.bias.assign_add(
            self.learning_rate * ops.sum(error, axis=0)
        )
        return self._report(outputs, targets)

    def stateful_test_step(self, data):
        _, outputs, targets = self._outputs_and_targets(data)
        return self._report(outputs, targets)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "units": self.units,
            "learning_rate": self.learning_rate,
            "kernel_initializer": self.perceptron.get_config()[
                "kernel_initializer"
            ],
        }
