"""Per-layer gradient norms in TensorBoard, with vanishing/exploding flags.

Works on every backend: the gradients come from the backend's own
autodiff (`tf.GradientTape` on TensorFlow, `jax.value_and_grad` on JAX)
and go to TensorBoard through `tf.summary` (TensorFlow is imported when
the first summary is written).
"""

import keras
import numpy as np

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import ordered
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts._validation import sequence
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


def _layer_key(variable, model_name):
    """`"model/dense_3/kernel"` -> `"dense_3"`: the path of the owning layer."""
    owner = variable.path.rsplit("/", 1)[0]
    prefix = model_name + "/"
    return owner[len(prefix) :] if owner.startswith(prefix) else owner


def _as_one_replica(fn):
    """`fn(replicas)` in a replica context of the active distribution strategy.

    A callback runs in the cross-replica context when `fit` is called in a
    strategy's scope; there, distributed variables cannot be differentiated.
    One replica computes the whole reference batch instead. On JAX, and on
    TensorFlow outside any strategy scope, `fn(1)` runs directly.
    """
    if keras.backend.backend() != "tensorflow":
        return fn(1)
    import tensorflow as tf

    if not tf.distribute.in_cross_replica_context():
        return fn(tf.distribute.get_strategy().num_replicas_in_sync)
    strategy = tf.distribute.get_strategy()
    results = strategy.run(fn, args=(strategy.num_replicas_in_sync,))
    return [
        None if g is None else strategy.experimental_local_results(g)[0]
        for g in results
    ]


def xy_batch(name, value):
    """`value` as a tuple `(x, y)` or `(x, y, sample_weight)` of one batch."""
    value = sequence(
        name, value, (2, 3), "a tuple (x, y) or (x, y, sample_weight)"
    )
    parts = {i: v for i, v in enumerate(value) if i < 2 or v is not None}
    for i, part in parts.items():
        data_batch(f"{name}[{i}]", part)
    data_batch(name, parts)  # one batch size for x, y and sample_weight
    return value


class GradientFlowMonitor(SummaryWriterCallback):
    """Logs every layer's gradient norm; flags vanishing and exploding ones.

    At training step 0 and every `every_n_steps` steps after it, the
    gradient of the compiled loss on a fixed `reference_data` batch is
    taken with respect to every trainable weight (in training mode;
    batch-norm statistics and other non-trainable state are restored
    afterwards, so the model is not changed). The first reading, step 0,
    is the untrained network's: it is taken when training begins, before
    the first update. For each layer `l` with weights `W_l`,

    ```
    g_l = sqrt(sum over w in W_l of ||dL/dw||^2)
    ```

    is written as the scalar `gradient_norm/<layer>` and the gradient values
    as the histogram `gradients/<layer>`. A layer with `g_l <
    vanishing_threshold` is flagged as vanishing, one with `g_l >
    exploding_threshold` as exploding: the counts go to the scalars
    `gradient_flow/vanishing_layers` and `gradient_flow/exploding_layers`,
    the layer names to the text summary `gradient_flow/flags`, and every
    measurement to `self.history` (a list of dicts with keys `step`,
    `norms`, `vanishing`, `exploding`).

    Args:
        log_dir: TensorBoard run directory.
        reference_data: tuple `(x, y)` (or `(x, y, sample_weight)`), a fixed
            batch on which the gradients are measured.
        every_n_steps: positive int `N`; measure at the training steps 0, N,
            2N, ..., where step `t` means the weights after `t` updates:
            step 0 is measured when training begins, before the first
            update (the untrained network), and step `t > 0` at the end of
            the `t`-th training batch (counted over every `fit` the
            callback is given to).
        vanishing_threshold: finite float >= 0; norms below it are flagged
            vanishing.
        exploding_threshold: finite float > vanishing_threshold; norms
            above it are flagged exploding.

    Examples:

        >>> import numpy as np, keras, tempfile
        >>> model = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(1, name="out")]
        ... )
        >>> model.compile("sgd", "mse")
        >>> x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
        >>> monitor = GradientFlowMonitor(
        ...     tempfile.mkdtemp(), (x, y), every_n_steps=1
        ... )
        >>> _ = model.fit(
        ...     x, y, batch_size=4, epochs=1, verbose=0, callbacks=[monitor]
        ... )
        >>> steps = [entry["step"] for entry in monitor.history]
        >>> steps  # before any update, after the first, after the second
        [0, 1, 2]
        >>> first = monitor.history[0]
        >>> list(first["norms"])
        ['out']
    """

    def __init__(
        self,
        log_dir,
        reference_data,
        every_n_steps=100,
        vanishing_threshold=1e-7,
        exploding_threshold=1e3,
    ):
        super().__init__(log_dir)
        self.reference_data = xy_batch("reference_data", reference_data)
        self.every_n_steps = positive_int("every_n_steps", every_n_steps)
        self.vanishing_threshold = non_negative_number(
            "vanishing_threshold", vanishing_threshold
        )
        self.exploding_threshold = positive_number(
            "exploding_threshold", exploding_threshold
        )
        ordered(
            "vanishing_threshold",
            self.vanishing_threshold,
            "exploding_threshold",
            self.exploding_threshold,
            strict=True,
        )
        self.history = []
        self._step = 0

    def gradients_by_layer(self):
        """Returns `{layer: [gradient arrays]}` on the reference batch."""
        # On JAX, reading `self.model` inside `fit` attaches the trainer's
        # current state to the variables first.
        model = self.model
        x, y = self.reference_data[:2]
        sample_weight = (
            self.reference_data[2] if len(self.reference_data) == 3 else None
        )
        variables = model.trainable_variables
        state = [(v, v.numpy()) for v in model.non_trainable_variables]

        def gradients(replicas):
            def loss_fn():
                y_pred = model(x, training=True)
                loss = model.compute_loss(
                    x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
                )
                # Under tf.distribute Keras scales the loss by 1/replicas.
                return loss * replicas, None

            # Batch-norm statistics and seed states are not passed as state:
            # JAX drops their updates, and TensorFlow's are undone below.
            return value_and_gradients(loss_fn, variables)[1]

        grads = _as_one_replica(gradients)
        for v, value in state:
            v.assign(value)
        by_layer = {}
        for v, g in zip(variables, grads):
            g = (
                np.zeros(v.shape, "float32")
                if g is None
                else np.asarray(g, "float32")
            )
            by_layer.setdefault(_layer_key(v, model.name), []).append(g)
        return by_layer

    def measure(self, step):
        """Measures, logs and returns one history entry at `step`."""
        by_layer = self.gradients_by_layer()
        norms = {
            name: float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
            for name, grads in by_layer.items()
        }
        vanishing = [
            n for n, v in norms.items() if v < self.vanishing_threshold
        ]
        exploding = [
            n for n, v in norms.items() if v > self.exploding_threshold
        ]
        with self.writer.as_default(step=step):
            for name, grads in by_layer.items():
                self.summary.scalar(f"gradient_norm/{name}", norms[name])
                self.summary.histogram(
                    f"gradients/{name}",
                    np.concatenate([g.ravel() for g in grads]),
                )
            self.summary.scalar(
                "gradient_flow/vanishing_layers", len(vanishing)
            )
            self.summary.scalar(
                "gradient_flow/exploding_layers", len(exploding)
            )
            if vanishing or exploding:
                low, high = self.vanishing_threshold, self.exploding_threshold
                self.summary.text(
                    "gradient_flow/flags",
                    f"step {step}: vanishing (norm < {low:g}): "
                    f"{', '.join(vanishing) or 'none'}; exploding (norm > "
                    f"{high:g}): {', '.join(exploding) or 'none'}",
                )
        entry = {
            "step": step,
            "norms": norms,
            "vanishing": vanishing,
            "exploding": exploding,
        }
        self.history.append(entry)
        return entry

    def on_train_begin(self, logs=None):
        # Step 0 is the untrained network; a later `fit` continues the
        # count, and its first step was measured at the end of the last one.
        if self._step == 0:
            self.measure(0)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every_n_steps == 0:
            self.measure(self._step)
