"""Saving a trained model's state and restoring it into a fresh one.

The contract's `checkpoint` checks use each backend's way of saving
training state without the architecture:

- TensorFlow: `tf.train.Checkpoint`, the object-graph checkpoint that
  `tf.distribute` and TensorFlow training loops use; the restore must match
  every variable of the fresh objects
  (`assert_existing_objects_matched`);
- JAX (and any other backend): Keras's own weight file,
  `model.save_weights` to a `.weights.h5` file and `model.load_weights`,
  which also holds the optimizer's variables of a compiled model.
"""

import os

import keras


def save(model, directory, optimizer=False):
    """Saves `model`'s state into `directory`; returns how to restore it.

    Args:
        model: the trained model.
        directory: an existing directory for the checkpoint files.
        optimizer: whether the optimizer's variables are saved and restored
            too.

    Returns:
        A callable `restore(fresh)` that restores the saved state into
        `fresh`, a new model of the same architecture, built (and, with
        `optimizer`, compiled with its optimizer built). The state is saved
        when `save` returns, so `model` may train on before the restore.
    """
    if keras.backend.backend() == "tensorflow":
        return _tensorflow_checkpoint(model, directory, optimizer)
    path = os.path.join(directory, "part.weights.h5")
    model.save_weights(path)

    def restore(fresh):
        fresh.load_weights(path)

    return restore


def _tensorflow_checkpoint(model, directory, optimizer):
    import tensorflow as tf

    def objects(of):
        if optimizer:
            return {"model": of, "optimizer": of.optimizer}
        return {"model": of}

    path = tf.train.Checkpoint(**objects(model)).save(
        os.path.join(directory, "ckpt")
    )

    def restore(fresh):
        status = tf.train.Checkpoint(**objects(fresh)).restore(path)
        status.assert_existing_objects_matched().expect_partial()

    return restore
