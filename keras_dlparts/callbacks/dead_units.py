"""Fraction of ReLU units that never activate, per layer, in TensorBoard.

Works on every backend; the fractions go to TensorBoard through
`tf.summary` (TensorFlow is imported when the first summary is written).
"""

import keras
import numpy as np

from keras_dlparts._validation import data_batch
from keras_dlparts._validation import number
from keras_dlparts._validation import positive_int
from keras_dlparts.callbacks.probe import probe_model
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


def is_relu_layer(layer):
    """True for a layer whose output is a ReLU (`activation="relu"`, `ReLU`)."""
    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and layer.threshold == 0
    return getattr(layer, "activation", None) is keras.activations.relu


class DeadUnitMonitor(SummaryWriterCallback):
    """Logs, per ReLU layer, the fraction of units that never activate.

    A unit (an output channel: the last axis of the layer's output) is dead
    on the reference batch when its output is `<= 0` for every example and
    every position: `max over batch and positions of a_u <= 0`. Dying ReLUs
    stop learning, since their gradient is zero. For every layer with a
    ReLU output (`activation="relu"` or a `keras.layers.ReLU()` layer) the
    dead fraction is written as the scalar `dead_units/<layer>` before
    training (step 0) and every `every_n_epochs` epochs (step = epochs
    done). Layers whose dead fraction reaches `alert_fraction` are counted
    in `dead_units/alert_layers`, named in the text summary
    `dead_units/alerts`, and every measurement goes to `self.history`
    (dicts with keys `step`, `fractions`, `alerts`).

    The model must be a Functional or Sequential model (the callback reads
    the output of each ReLU layer through a probe model).

    Args:
        log_dir: TensorBoard run directory.
        reference_data: the model input(s) of a fixed reference batch (an
            array, or a list or dict of arrays, with a batch axis).
        every_n_epochs: positive int.
        alert_fraction: float in (0, 1]; a layer with at least this dead
            fraction is flagged.

    Examples:

        >>> import numpy as np, keras, tempfile
        >>> model = keras.Sequential([keras.Input((3,)),
        ...     keras.layers.Dense(4, activation="relu", name="hidden",
        ...         bias_initializer=keras.initializers.Constant(-100.0)),
        ...     keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> probe = np.ones((5, 3), "float32")
        >>> monitor = DeadUnitMonitor(tempfile.mkdtemp(), probe)
        >>> monitor.set_model(model)
        >>> monitor.measure(step=0)["fractions"]
        {'hidden': 1.0}
    """

    def __init__(
        self, log_dir, reference_data, every_n_epochs=1, alert_fraction=0.5
    ):
        super().__init__(log_dir)
        self.reference_data = data_batch("reference_data", reference_data)
        self.every_n_epochs = positive_int("every_n_epochs", every_n_epochs)
        self.alert_fraction = number(
            "alert_fraction", alert_fraction, low=0, high=1, include_low=False
        )
        self.history = []
        self._probe = None

    def _relu_probe(self):
        if self._probe is None:
            layers = [
                layer for layer in self.model.layers if is_relu_layer(layer)
            ]
            if not layers:
                raise ValueError(
                    f"Model {self.model.name!r} has no ReLU layer to monitor."
                )
            self._names = [layer.name for layer in layers]
            self._probe = probe_model(
                self.model, [layer.output for layer in layers]
            )
        return self._probe

    def dead_fractions(self):
        """Returns `{layer: fraction of dead units}` on the reference batch."""
        # Reading `self.model` on JAX attaches the trainer's current state.
        _ = self.model
        outputs = self._relu_probe()(self.reference_data, training=False)
        fractions = {}
        for name, out in zip(self._names, outputs):
            out = np.asarray(out, "float32")
            peak = out.reshape(-1, out.shape[-1]).max(axis=0)
            fractions[name] = float(np.mean(peak <= 0))
        return fractions

    def measure(self, step):
        """Measures, logs and returns one history entry at `step`."""
        fractions = self.dead_fractions()
        alerts = [n for n, f in fractions.items() if f >= self.alert_fraction]
        with self.writer.as_default(step=step):
            for name, fraction in fractions.items():
                self.summary.scalar(f"dead_units/{name}", fraction)
            self.summary.scalar("dead_units/alert_layers", len(alerts))
            if alerts:
                self.summary.text(
                    "dead_units/alerts",
                    f"step {step}: layers with >= "
                    f"{self.alert_fraction:.0%} dead "
                    "units: "
                    + ", ".join(f"{n} ({fractions[n]:.0%})" for n in alerts),
                )
        entry = {"step": step, "fractions": fractions, "alerts": alerts}
        self.history.append(entry)
        return entry

    def on_train_begin(self, logs=None):
        self.measure(step=0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.measure(step=epoch + 1)
