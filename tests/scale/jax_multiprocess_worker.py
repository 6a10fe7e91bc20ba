"""One process of the JAX multi-process test (run as a subprocess).

`--process-id I --num-processes N --coordinator HOST:PORT`: joins the
cluster with `keras.distribution.initialize`, trains a transformer
classifier built from keras_dlparts parts with `model.fit` under
`keras.distribution.DataParallel` over every process's devices, feeding
only this process's share of each global batch. Without `--process-id` it
trains the same model alone on the global batches (the reference). Writes
the initial and final weights and the epoch losses to `--out`.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

GLOBAL_BATCH = 16
STEPS = 2
EPOCHS = 2


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(GLOBAL_BATCH * STEPS, 6, 4)).astype("float32")
    y = rng.integers(0, 3, GLOBAL_BATCH * STEPS)
    return x, y


def local_share(array, process_id, num_processes):
    """Rows of `array` this process feeds: its slice of each global batch."""
    per_process = GLOBAL_BATCH // num_processes
    batches = array.reshape((STEPS, GLOBAL_BATCH) + array.shape[1:])
    share = batches[
        :, process_id * per_process : (process_id + 1) * per_process
    ]
    return share.reshape((STEPS * per_process,) + array.shape[1:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--process-id", type=int)
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--coordinator")
    args = parser.parse_args()

    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    import keras

    from keras_dlparts.models import build_transformer_classifier

    distributed = args.process_id is not None
    if distributed:
        keras.distribution.initialize(
            job_addresses=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
        # Every process's data is its own share already.
        distribution = keras.distribution.DataParallel(auto_shard_dataset=False)
        keras.distribution.set_distribution(distribution)

    keras.utils.set_random_seed(0)
    model = build_transformer_classifier(
        (6, 4),
        3,
        embedding_dim=8,
        num_heads=2,
        intermediate_dim=16,
        num_layers=1,
        dropout=0.0,
    )
    initial = model.get_weights()
    model.compile(
        keras.optimizers.SGD(0.1, momentum=0.9),
        "sparse_categorical_crossentropy",
    )
    x, y = data()
    batch_size = GLOBAL_BATCH
    if distributed:
        x = local_share(x, args.process_id, args.num_processes)
        y = local_share(y, args.process_id, args.num_processes)
        batch_size = GLOBAL_BATCH // args.num_processes
    history = model.fit(
        x, y, batch_size=batch_size, epochs=EPOCHS, shuffle=False, verbose=0
    )
    np.savez(
        args.out,
        *model.get_weights(),
        *initial,
        loss=np.array(history.history["loss"]),
        process_count=jax.process_count(),
        device_count=jax.device_count(),
        local_device_count=jax.local_device_count(),
        replicas=distribution.num_model_replicas if distributed else 1,
    )


if __name__ == "__main__":
    main()
