"""FD-digits and judge accuracy of DDPM, DDIM and DPM-Solver++ on digits.

Trains two small conditional `DiffusionModel`s on the digits training
split, one predicting the noise (`prediction="epsilon"`) and one `"v"`,
both with `ema_decay` (the moving average of the weights), then samples
`--per-class` images of every class with DDPM (every step of the
`--schedule-steps` noise schedule, 1000), DDIM (50) and DPM-Solver++(2M)
(20 and 10), once with the averaged weights and once
with the raw ones. Every set is scored by the package's digits judge
(`keras_dlparts.models.digits_judge`): its accuracy on the requested
labels, and FD-digits (`fd_digits`) against the training split. The
real-data baseline row is the held-out test split against the training
split, a set of the same size. Prints a Markdown table (the one in
docs/generative.md).

Usage: KERAS_BACKEND=jax python examples/diffusion_quality_table.py
    [--epochs 30] [--base-filters 16] [--ema-decay 0.995] [--per-class 36]
    [--schedule-steps 1000]
(about 12 minutes of a loaded 2-core CPU with the defaults).
"""

import argparse
import time

import keras
import numpy as np

from keras_dlparts.data import load_digits
from keras_dlparts.models import DiffusionModel
from keras_dlparts.models import NoiseSchedule
from keras_dlparts.models import build_diffusion_unet
from keras_dlparts.models import digits_judge
from keras_dlparts.models import fd_digits

# (name, sampler, steps); DDPM takes every step of the schedule.
SAMPLERS = [("DDPM", "ddpm", None), ("DDIM", "ddim", 50)]
SAMPLERS += [("DPM-Solver++(2M)", "dpmpp_2m", 20)]
SAMPLERS += [("DPM-Solver++(2M)", "dpmpp_2m", 10)]


def build_model(prediction, base_filters, ema_decay, schedule_steps=1000):
    network = build_diffusion_unet(
        (8, 8, 1),
        base_filters=base_filters,
        channel_multipliers=(1, 2),
        num_res_blocks=1,
        attention_resolutions=(),
        num_classes=10,
    )
    return DiffusionModel(
        network,
        NoiseSchedule("linear", steps=schedule_steps),
        num_classes=10,
        data_range=(0.0, 1.0),
        seed=0,
        prediction=prediction,
        ema_decay=ema_decay,
    )


def judge_accuracy(images, labels):
    probabilities = digits_judge().predict(
        images.reshape(len(images), 64), verbose=0
    )
    return float(np.mean(probabilities.argmax(-1) == labels))


def main(argv=None):
    """Trains, samples and prints the table; returns its rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--base-filters", type=int, default=16)
    parser.add_argument("--ema-decay", type=float, default=0.995)
    parser.add_argument("--per-class", type=int, default=36)
    parser.add_argument("--predictions", nargs="+", default=["epsilon", "v"])
    parser.add_argument("--schedule-steps", type=int, default=1000)
    args = parser.parse_args(argv)

    (x, y), (x_test, y_test) = load_digits()
    rows = [
        (
            "real test split",
            "-",
            "-",
            judge_accuracy(x_test, y_test),
            fd_digits(x_test, x),
        )
    ]
    labels = np.repeat(np.arange(10), args.per_class)
    for prediction in args.predictions:
        keras.utils.set_random_seed(0)
        model = build_model(
            prediction, args.base_filters, args.ema_decay, args.schedule_steps
        )
        steps = args.epochs * int(np.ceil(len(x) / args.batch_size))
        model.compile(
            optimizer=keras.optimizers.Adam(
                keras.optimizers.schedules.CosineDecay(
                    args.learning_rate, steps, alpha=0.05
                )
            )
        )
        start = time.perf_counter()
        history = model.fit(
            (x, y), epochs=args.epochs, batch_size=args.batch_size, verbose=0
        )
        loss = history.history["loss"]
        print(
            f"{prediction}: {args.epochs} epochs in "
            f"{time.perf_counter() - start:.0f} s, loss {loss[0]:.4f} -> "
            f"{loss[-1]:.4f}",
            flush=True,
        )
        for name, sampler, sampler_steps in SAMPLERS:
            sampler_steps = sampler_steps or args.schedule_steps
            for use_ema in (True, False):
                samples = model.generate(
                    len(labels),
                    seed=0,
                    labels=labels,
                    steps=sampler_steps,
                    sampler=sampler,
                    use_ema=use_ema,
                )
                row = (
                    f"{name}, {sampler_steps} steps",
                    prediction,
                    "yes" if use_ema else "no",
                    judge_accuracy(samples, labels),
                    fd_digits(samples, x),
                )
                rows.append(row)
                print(row, flush=True)
    print()
    print("| sampler | prediction | EMA | judge accuracy | FD-digits |")
    print("| --- | --- | --- | ---: | ---: |")
    for name, prediction, ema, accuracy, fd in rows:
        print(f"| {name} | {prediction} | {ema} | {accuracy:.3f} | {fd:.2f} |")
    return rows


if __name__ == "__main__":
    main()
