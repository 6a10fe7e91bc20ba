"""2x super-resolution of the 8x8 digits: bicubic, SRResNet and SRGAN.

The 8x8 digits of `keras_dlparts.data.load_digits` are the high-resolution
images and their 2x2 averages (4x4) the low-resolution ones; upscaling
4x4 to 8x8 must restore the strokes the averaging blurred. (8x8 -> 16x16
would need 16x16 ground truth, which this data set does not have.)

Following Ledig et al. (2017), a generator from `build_srgan_generator`
is first trained alone on the pixel MSE (SRResNet, a plain Keras `fit`),
then fine-tuned inside `models.SRGAN` with a discriminator from
`build_srgan_discriminator` (MSE + 1e-3 x the adversarial loss). Printed
for the held-out test split: PSNR and SSIM (`ops.psnr`, `ops.ssim` with a
3x3 window of sigma 1, the 11x11 default does not fit 8x8 images) of
bicubic upsampling (`keras.ops.image.resize(..., interpolation="bicubic")`,
Keys' cubic with a = -0.5 and half-pixel centres on TensorFlow and JAX,
clipped to [0, 1]; on these images it equals PIL's `Image.BICUBIC`), of
SRResNet and of SRGAN. Initial weights and batch
order come from NumPy, so both backends start alike. Saves a grid
(`--out`): rows low-res (each pixel shown 2x2), bicubic, SRResNet, SRGAN,
high-res; one held-out digit of each class per column.

Usage:
    python examples/srgan_digits.py [--epochs 60] [--gan-epochs 20] \
        [--seed 0] [--out docs/images/srgan_digits.png]
"""

import argparse
import time

import keras
import numpy as np

from keras_dlparts.callbacks.image_samples import image_grid
from keras_dlparts.callbacks.image_samples import save_png
from keras_dlparts.data import load_digits
from keras_dlparts.models import SRGAN
from keras_dlparts.models import build_srgan_discriminator
from keras_dlparts.models import build_srgan_generator
from keras_dlparts.ops import psnr
from keras_dlparts.ops import ssim

#: SSIM's window on 8x8 images: 3x3 taps, sigma 1 (valid region 6x6).
SSIM_WINDOW = {"filter_size": 3, "filter_sigma": 1.0}


def downsample(images):
    """2x2 average pooling: `(n, 8, 8, 1)` -> `(n, 4, 4, 1)`."""
    n, h, w, c = images.shape
    return images.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def bicubic(low):
    """Bicubic 2x upsampling with `keras.ops.image.resize`, clipped."""
    n, h, w, _ = low.shape
    up = keras.ops.image.resize(low, (2 * h, 2 * w), interpolation="bicubic")
    return np.clip(keras.ops.convert_to_numpy(up), 0.0, 1.0)


def quality(sr, high):
    """Mean PSNR (dB) and SSIM of `sr` against `high`."""
    return (
        float(np.mean(keras.ops.convert_to_numpy(psnr(high, sr, 1.0)))),
        float(
            np.mean(
                keras.ops.convert_to_numpy(ssim(high, sr, 1.0, **SSIM_WINDOW))
            )
        ),
    )


def numpy_init(model, rng):
    """Redraws every kernel Glorot-uniform from `rng` (biases stay zero)."""
    for variable in model.trainable_weights:
        if variable.path.endswith("kernel"):
            shape = tuple(variable.shape)
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            variable.assign(rng.uniform(-limit, limit, shape).astype("float32"))


def fit_epochs(fit, low, high, epochs, batch_size, rng):
    """`epochs` calls of `fit` for one epoch each, batches in NumPy order."""
    history = {}
    for _ in range(epochs):
        order = rng.permutation(len(low))
        logs = fit(
            low[order],
            high[order],
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        ).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
    return history


def upscale(generator, low):
    return np.asarray(keras.ops.convert_to_numpy(generator(low)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--gan-epochs", type=int, default=20)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--adversarial-weight", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="srgan_digits.png")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, _), (x_test, y_test) = load_digits()
    low_train, low_test = downsample(x_train), downsample(x_test)

    generator = build_srgan_generator(
        2, channels=1, filters=args.filters, num_residual_blocks=args.blocks
    )
    numpy_init(generator, rng)
    start = time.perf_counter()
    generator.compile(keras.optimizers.Adam(1e-3), "mse")
    pre = fit_epochs(generator.fit, low_train, x_train, args.epochs, 32, rng)
    srresnet = upscale(generator, low_test)
    print(
        f"SRResNet: {args.epochs} epochs in "
        f"{time.perf_counter() - start:.0f} s, training MSE "
        f"{pre['loss'][0]:.4f} -> {pre['loss'][-1]:.4f}"
    )

    discriminator = build_srgan_discriminator(
        (8, 8, 1), filters=(args.filters, 2 * args.filters), dense_units=64
    )
    numpy_init(discriminator, rng)
    srgan = SRGAN(
        generator,
        discriminator,
        content_loss="mean_squared_error",
        adversarial_weight=args.adversarial_weight,
    )
    srgan.compile(
        d_optimizer=keras.optimizers.Adam(1e-4),
        g_optimizer=keras.optimizers.Adam(1e-4),
    )
    start = time.perf_counter()
    gan = fit_epochs(srgan.fit, low_train, x_train, args.gan_epochs, 32, rng)
    sr = upscale(generator, low_test)
    print(
        f"SRGAN: {args.gan_epochs} epochs in "
        f"{time.perf_counter() - start:.0f} s, last epoch: "
        + ", ".join(f"{k} {v[-1]:.4f}" for k, v in sorted(gan.items()))
    )

    rows = {
        "bicubic": bicubic(low_test),
        "SRResNet": srresnet,
        "SRGAN": sr,
    }
    results = {name: quality(images, x_test) for name, images in rows.items()}
    print(f"held-out digits ({len(x_test)}): PSNR (dB), SSIM (3x3, sigma 1)")
    for name, (p, s) in results.items():
        print(f"  {name:9s} {p:6.2f}  {s:.4f}")

    columns = [int(np.flatnonzero(y_test == c)[0]) for c in range(10)]
    shown = np.repeat(np.repeat(low_test, 2, axis=1), 2, axis=2)
    grid = np.concatenate(
        [
            shown[columns],
            rows["bicubic"][columns],
            rows["SRResNet"][columns],
            rows["SRGAN"][columns],
            x_test[columns],
        ]
    )
    save_png(image_grid(grid, columns=10, scale=8, padding=1), args.out)
    print(f"saved {args.out}")
    return {
        "results": results,
        "pretraining_loss": pre["loss"],
        "srgan_logs": gan,
    }


if __name__ == "__main__":
    main()
