"""Killed training processes for the resume-every-model test.

`python resume_worker.py` imports Keras and the models once, then serves
requests, one JSON line each on stdin: {"model", "backup_dir", "log",
"kill_epoch", "kill_batch"}. For each it forks a fresh process that trains
that model class of `keras_dlparts.models` (small shapes, `shuffle=False`)
for EPOCHS epochs with `keras.callbacks.BackupAndRestore` and SIGKILLs
itself in the middle of epoch `kill_epoch`, as a crash would; it answers
{"returncode": ...} (minus the signal number for a killed process, as
`subprocess` reports it). Each finished epoch is appended to `log`. The
parent only imports: it runs no op, so each forked process starts as a
new one would, without paying for Python, Keras and the backend again.
"""

import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from backup_worker import KillMidEpoch  # noqa: E402  (this folder)

from keras_dlparts import models  # noqa: E402
from keras_dlparts.losses import CLIPLoss  # noqa: E402
from keras_dlparts.losses import ContrastiveLoss  # noqa: E402

EPOCHS = 3
BATCH_SIZE = 4
SAMPLES = 12  # three steps per epoch


def _rng():
    return np.random.default_rng(0)


def _dense(inputs, units, **kwargs):
    return keras.Sequential(
        [keras.Input(inputs), keras.layers.Dense(units, **kwargs)]
    )


def _gan():
    generator = _dense((2,), 4)
    discriminator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dropout(0.2), keras.layers.Dense(1)]
    )
    model = models.GAN(generator, discriminator, latent_dim=2)
    model.compile()
    return model, (_rng().normal(size=(SAMPLES, 4)).astype("float32"),)


def _conditional_gan():
    generator = models.build_dcgan_generator(
        2, (4, 4, 1), filters=(2,), num_classes=3
    )
    discriminator = models.build_dcgan_discriminator(
        (4, 4, 1), filters=(2,), num_classes=3
    )
    model = models.ConditionalGAN(
        generator, discriminator, latent_dim=2, num_classes=3
    )
    model.compile()
    x = _rng().random((SAMPLES, 4, 4, 1)).astype("float32")
    return model, (x, np.arange(SAMPLES) % 3)


def _vae():
    inputs = keras.Input((4,))
    encoder = keras.Model(
        inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)]
    )
    decoder = _dense((2,), 4, activation="sigmoid")
    model = models.VAE(encoder, decoder)
    model.compile(optimizer="adam")
    return model, (_rng().random((SAMPLES, 4)).astype("float32"),)


def _siamese():
    model = models.SiameseNetwork(_dense((4,), 3))
    model.compile(optimizer="adam", loss=ContrastiveLoss(margin=1.0))
    x = _rng().normal(size=(2, SAMPLES, 4)).astype("float32")
    return model, ((x[0], x[1]), (np.arange(SAMPLES) % 2).astype("float32"))


def _dual_encoder():
    texts = keras.Sequential(
        [
            keras.Input((3,), dtype="int32"),
            keras.layers.Embedding(5, 4),
            keras.layers.Flatten(),
        ]
    )
    model = models.DualEncoder(_dense((4,), 4), texts, projection_dim=3)
    model.compile(optimizer="adam", loss=CLIPLoss())
    rng = _rng()
    images = rng.normal(size=(SAMPLES, 4)).astype("float32")
    tokens = rng.integers(0, 5, size=(SAMPLES, 3)).astype("int32")
    return model, ((images, tokens), np.zeros(SAMPLES, "float32"))


def _anomaly_detector():
    autoencoder = models.build_autoencoder(
        (4,), 2, hidden_units=(3,), denoising=0.1
    )
    model = models.AnomalyDetector(autoencoder, quantile=0.9)
    model.compile(optimizer="adam")
    return model, (_rng().random((SAMPLES, 4)).astype("float32"),)


def _som():
    model = models.SOM((2, 2), decay_steps=4)
    model.compile()
    return model, (_rng().random((SAMPLES, 3)).astype("float32"),)


def _rbm():
    model = models.RBM(hidden_units=3)
    model.compile()
    return model, ((_rng().random((SAMPLES, 4)) > 0.5).astype("float32"),)


def _perceptron():
    model = models.PerceptronClassifier(
        learning_rate=0.5, kernel_initializer="random_normal"
    )
    model.compile()
    x = _rng().normal(size=(SAMPLES, 2)).astype("float32")
    return model, (x, (x[:, 0] > 0).astype("float32"))


def _diffusion():
    # A small network of the U-Net's signature ([x_t, t] -> noise): the
    # resume logic is the model's; the U-Net's trace would cost a minute.
    x_t = keras.Input((4, 4, 1))
    t = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()(
        [keras.layers.Flatten()(x_t), keras.layers.Embedding(10, 4)(t)]
    )
    h = keras.layers.Dropout(0.1)(keras.layers.Dense(8, activation="relu")(h))
    noise = keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(h))
    network = keras.Model([x_t, t], noise)
    model = models.DiffusionModel(
        network, models.NoiseSchedule(steps=10), data_range=(0.0, 1.0)
    )
    model.compile(optimizer="adam")
    return model, (_rng().random((SAMPLES, 4, 4, 1)).astype("float32"),)


def _word2vec():
    model = models.Word2Vec(
        vocabulary_size=8, embedding_dim=3, negative_samples=2
    )
    model.compile(optimizer="adam")
    rng = _rng()
    targets, contexts = (rng.integers(1, 8, size=SAMPLES) for _ in range(2))
    return model, ((targets, contexts),)


def _cyclegan():
    model = models.CycleGAN(
        _dense((3,), 3), _dense((3,), 3), _dense((3,), 1), _dense((3,), 1)
    )
    model.compile()
    rng = _rng()
    a = rng.normal(size=(SAMPLES, 3)).astype("float32")
    return model, (a, rng.normal(size=(SAMPLES, 3)).astype("float32"))


def _srgan():
    generator = keras.Sequential(
        [
            keras.Input((2, 2, 1)),
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(1, 1),
        ]
    )
    discriminator = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model = models.SRGAN(generator, discriminator)
    model.compile()
    high = _rng().random((SAMPLES, 4, 4, 1)).astype("float32")
    return model, (high[:, ::2, ::2], high)


def _hierarchical_vae():
    def two_heads(inputs, units, extra=()):
        x = keras.Input(inputs)
        heads = [keras.layers.Dense(units)(x), keras.layers.Dense(units)(x)]
        return keras.Model(x, heads + [layer(x) for layer in extra])

    encoder_1 = two_heads((4,), 2, [keras.layers.Dense(3)])
    model = models.HierarchicalVAE(
        encoder_1,
        two_heads((3,), 2),
        two_heads((2,), 2),
        _dense((2,), 4, activation="sigmoid"),
    )
    model.compile(optimizer="adam")
    return model, (_rng().random((SAMPLES, 4)).astype("float32"),)


MODELS = {
    "GAN": _gan,
    "CycleGAN": _cyclegan,
    "SRGAN": _srgan,
    "HierarchicalVAE": _hierarchical_vae,
    "ConditionalGAN": _conditional_gan,
    "VAE": _vae,
    "SiameseNetwork": _siamese,
    "DualEncoder": _dual_encoder,
    "AnomalyDetector": _anomaly_detector,
    "SOM": _som,
    "RBM": _rbm,
    "PerceptronClassifier": _perceptron,
    "DiffusionModel": _diffusion,
    "Word2Vec": _word2vec,
}


class EpochLog(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{epoch}\n")


# Their learning rules update the weights themselves: `model.optimizer` is
# unused (BackupAndRestore builds it on resume, an uninterrupted run never).
UNUSED_OPTIMIZER = {"PerceptronClassifier", "SOM"}


def state(model):
    """Every variable of the model (seed states included) and its optimizers."""
    variables = list(model.variables)
    if type(model).__name__ not in UNUSED_OPTIMIZER:
        variables += list(model.optimizer.variables)
    return {
        f"{i:03d} {v.path}": keras.ops.convert_to_numpy(v)
        for i, v in enumerate(variables)
    }


def train(name, callbacks):
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    model, data = MODELS[name]()
    model.fit(
        *data,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )
    return state(model)


def _killed_run(request):
    """The forked process: train until the kill (stdout is the protocol's,
    so its output goes to stderr)."""
    os.dup2(2, 1)
    try:
        train(
            request["model"],
            [
                keras.callbacks.BackupAndRestore(request["backup_dir"]),
                EpochLog(request["log"]),
                KillMidEpoch(request["kill_epoch"], request["kill_batch"]),
            ],
        )
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)  # the kill point was never reached


def main():
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _killed_run(request)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            returncode = -os.WTERMSIG(status)
        else:
            returncode = os.WEXITSTATUS(status)
        print(json.dumps({"returncode": returncode}), flush=True)


if __name__ == "__main__":
    main()
