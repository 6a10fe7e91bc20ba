"""Training diagnostics in TensorBoard: gradient flow, dead ReLUs and pruning.

Digits MLPs are trained three times, each run leaving a TensorBoard log:

- `logs/diagnostics/sigmoid_deep`: a 20-layer sigmoid MLP, where
  `GradientFlowMonitor` shows the gradient norms of the first layers
  collapsing (vanishing gradients, flagged in the "Text" tab).
- `logs/diagnostics/relu_dead_layer`: a ReLU MLP with one layer's bias
  pushed to -100, where `DeadUnitMonitor` reports that layer 100% dead and
  `GradientFlowMonitor` shows that no gradient reaches the layers below it.
- `logs/diagnostics/relu_pruned`: a healthy ReLU MLP that `MagnitudePruning`
  prunes to 80% sparsity on the polynomial schedule of Zhu and Gupta, with
  both monitors on; its test accuracy is printed against a dense twin.

Run:  python examples/training_diagnostics.py    (about a minute on 2 CPU cores)
Then: tensorboard --logdir logs/diagnostics
      (Scalars: gradient_norm/*, dead_units/*, pruning/*; Histograms:
      gradients/*; Text: gradient_flow/flags, dead_units/alerts)
"""

import os
import pathlib
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.callbacks import DeadUnitMonitor  # noqa: E402
from keras_dlparts.callbacks import GradientFlowMonitor  # noqa: E402
from keras_dlparts.callbacks import MagnitudePruning  # noqa: E402
from keras_dlparts.data import load_digits  # noqa: E402

LOG_DIR = pathlib.Path("logs") / "diagnostics"


def mlp(hidden, activation, name):
    layers = [keras.Input((64,))]
    for i, units in enumerate(hidden):
        layers.append(
            keras.layers.Dense(
                units, activation=activation, name=f"dense_{i:02d}"
            )
        )
    layers.append(keras.layers.Dense(10, name="logits"))
    model = keras.Sequential(layers, name=name)
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def vanishing_run(x, y, epochs):
    """A 20-layer sigmoid MLP: the first layers get almost no gradient."""
    model = mlp([32] * 20, "sigmoid", "sigmoid_deep")
    monitor = GradientFlowMonitor(
        LOG_DIR / "sigmoid_deep",
        reference_data=(x[:128], y[:128]),
        every_n_steps=20,
        vanishing_threshold=1e-7,
    )
    model.fit(
        x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[monitor]
    )
    last = monitor.history[-1]
    print(f"20-layer sigmoid MLP, step {last['step']}:")
    print(
        "  gradient norm of dense_00 / dense_10 / dense_19: "
        + " / ".join(
            f"{last['norms'][f'dense_{i:02d}']:.1e}" for i in (0, 10, 19)
        )
    )
    print(f"  vanishing layers: {', '.join(last['vanishing']) or 'none'}")


def dead_layer_run(x, y):
    """A ReLU MLP whose middle layer is killed by a bias of -100."""
    keras.utils.set_random_seed(1)
    model = mlp([64, 64, 64], "relu", "relu_dead_layer")
    model.get_layer("dense_01").bias.assign(np.full(64, -100.0, "float32"))
    log_dir = LOG_DIR / "relu_dead_layer"
    dead = DeadUnitMonitor(log_dir, x[:256])
    flow = GradientFlowMonitor(log_dir, (x[:128], y[:128]), every_n_steps=20)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[dead, flow])
    print("ReLU MLP with dense_01's bias at -100:")
    print(
        "  dead-unit fractions: "
        + ", ".join(
            f"{k} {v:.0%}" for k, v in dead.history[-1]["fractions"].items()
        )
    )
    print(
        f"  flagged: {', '.join(dead.history[-1]['alerts'])}; "
        "no gradient reaches "
        f"{', '.join(flow.history[-1]['vanishing'])}"
    )


def pruning_run(x, y, x_test, y_test, epochs):
    """A healthy ReLU MLP pruned to 80% sparsity, against its dense twin."""
    keras.utils.set_random_seed(1)
    dense = mlp([128, 64], "relu", "relu_dense")
    dense.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    dense_acc = dense.evaluate(x_test, y_test, verbose=0)[1]

    keras.utils.set_random_seed(1)
    model = mlp([128, 64], "relu", "relu_pruned")
    steps = epochs * int(np.ceil(len(x) / 32))
    log_dir = LOG_DIR / "relu_pruned"
    callbacks = [
        GradientFlowMonitor(log_dir, (x[:128], y[:128]), every_n_steps=50),
        DeadUnitMonitor(log_dir, x[:256]),
        MagnitudePruning(
            target_sparsity=0.8,
            begin_step=0,
            end_step=steps // 3,  # then fine-tune at 80%
            frequency=20,
            log_dir=log_dir,
        ),
    ]
    model.fit(
        x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=callbacks
    )
    sparsity = {
        layer.name: float(np.mean(layer.kernel.numpy() == 0))
        for layer in model.layers
    }
    pruned_acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print("ReLU MLP pruned on the Zhu-Gupta schedule:")
    print(
        "  kernel sparsity: "
        + ", ".join(f"{k} {v:.0%}" for k, v in sparsity.items())
    )
    print(
        f"  test accuracy: dense {dense_acc:.3f}, "
        f"pruned to 80% {pruned_acc:.3f}"
    )
    return dense_acc, pruned_acc


def main(epochs=15):
    shutil.rmtree(LOG_DIR, ignore_errors=True)  # a fresh log per run
    (x, y), (x_test, y_test) = load_digits(as_images=False)
    vanishing_run(x, y, epochs=2)
    dead_layer_run(x, y)
    pruning_run(x, y, x_test, y_test, epochs)
    print(f"TensorBoard logs in {LOG_DIR}/: tensorboard --logdir {LOG_DIR}")


if __name__ == "__main__":
    main()
