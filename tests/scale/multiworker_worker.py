"""One worker of the multi-worker test (run as a subprocess with TF_CONFIG set).

Builds a small transformer classifier from keras_dlparts parts under
`tf.distribute.MultiWorkerMirroredStrategy`, trains it on the same digits on
every worker (each worker takes its shard of every global batch), and saves
its final weights to `--out` as a .npz file.

The training loop is the `strategy.run` custom loop of TensorFlow's
multi-worker guide: Keras 3's `model.fit` fails under
MultiWorkerMirroredStrategy (keras-team/keras#20585, still open for Keras
3.15) when it reduces the first distributed batch to build the model.
The model, its layers, the loss and the optimizer are all plain Keras.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_dlparts.data import load_digits  # noqa: E402
from keras_dlparts.models import build_transformer_classifier  # noqa: E402

GLOBAL_BATCH = 32


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras.utils.set_random_seed(0)
    (x, y), _ = load_digits()
    x, y = x[:256, ..., 0], y[:256]
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    with strategy.scope():
        model = build_transformer_classifier(
            (8, 8),
            10,
            embedding_dim=16,
            num_heads=2,
            intermediate_dim=32,
            num_layers=1,
            dropout=0.0,
        )
        optimizer = keras.optimizers.Adam(1e-2)
        optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)

    @tf.function
    def train_step(batch):
        def replica_step(features, labels):
            with tf.GradientTape() as tape:
                per_example = loss_fn(labels, model(features, training=True))
                loss = tf.nn.compute_average_loss(
                    per_example, global_batch_size=GLOBAL_BATCH
                )
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            return loss

        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce("SUM", losses, axis=None)

    epoch_losses = []
    for _ in range(3):
        batches = [
            train_step(b)
            for b in strategy.experimental_distribute_dataset(dataset)
        ]
        epoch_losses.append(float(tf.reduce_mean(batches)))
    np.savez(
        args.out,
        *[np.asarray(w) for w in model.get_weights()],
        loss=np.array(epoch_losses),
        replicas=np.array(strategy.num_replicas_in_sync),
    )


if __name__ == "__main__":
    main()
