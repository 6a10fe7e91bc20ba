"""A flat VAE against a two-level ladder VAE of the same size on 8x8 digits.

Trains `keras_dlparts.models.VAE` (8 latent dimensions) and
`keras_dlparts.models.HierarchicalVAE` (4 + 4) on the training split of
`keras_dlparts.data.load_digits` with the same optimiser, batches and
Bernoulli likelihood (binary cross-entropy of the [0, 1] pixels), and
prints, for the held-out split, the negative ELBO per image in nats
(averaged over `--draws` reparameterised draws of the codes), its
reconstruction term, the KL of each level and the active units of each
level (dimensions whose posterior mean varies over the test digits with
variance above 0.01; Burda et al., 2016), before and after training.
Both models have two hidden layers of `--hidden` units on each side; the
parameter counts are printed. Saves a grid of 100 ancestral samples of
the ladder (z2 ~ N(0, I), z1 ~ p(z1 | z2), decoded means) to `--out`.

Usage:
    python examples/hierarchical_vae_digits.py [--epochs 300] [--seed 0] \
        [--out hierarchical_vae_digits.png]
"""

import argparse
import time

import keras
import numpy as np

from keras_dlparts.callbacks.image_samples import image_grid
from keras_dlparts.callbacks.image_samples import save_png
from keras_dlparts.data import load_digits
from keras_dlparts.models import VAE
from keras_dlparts.models import HierarchicalVAE

PIXELS = 64


def _mlp(inputs, hidden, layers):
    h = inputs
    for _ in range(layers):
        h = keras.layers.Dense(hidden, activation="relu")(h)
    return h


def _gaussian(h, dim, name):
    """Mean and log-variance heads of `dim` units."""
    return [
        keras.layers.Dense(dim, name=f"{name}_mean")(h),
        keras.layers.Dense(dim, name=f"{name}_log_var")(h),
    ]


def _decoder(latent_dim, hidden):
    codes = keras.Input((latent_dim,))
    out = keras.layers.Dense(PIXELS, activation="sigmoid")(
        _mlp(codes, hidden, 2)
    )
    return keras.Model(codes, out, name="decoder")


def build_flat_vae(hidden, latent_dim=8):
    """x -> 2 x hidden -> z (latent_dim) -> 2 x hidden -> x."""
    x = keras.Input((PIXELS,))
    encoder = keras.Model(
        x, _gaussian(_mlp(x, hidden, 2), latent_dim, "z"), name="encoder"
    )
    return VAE(encoder, _decoder(latent_dim, hidden), seed=0)


def build_ladder_vae(hidden, latent_1=4, latent_2=4):
    """d1 = f1(x), d2 = f2(d1) (hidden each); z2 -> hidden -> p(z1 | z2)."""
    x = keras.Input((PIXELS,))
    d1 = _mlp(x, hidden, 1)
    encoder_1 = keras.Model(
        x, _gaussian(d1, latent_1, "z1_hat") + [d1], name="encoder_1"
    )
    d1_in = keras.Input((hidden,))
    encoder_2 = keras.Model(
        d1_in,
        _gaussian(_mlp(d1_in, hidden, 1), latent_2, "z2"),
        name="encoder_2",
    )
    z2 = keras.Input((latent_2,))
    prior_1 = keras.Model(
        z2, _gaussian(_mlp(z2, hidden, 1), latent_1, "z1_prior"), name="prior"
    )
    return HierarchicalVAE(
        encoder_1, encoder_2, prior_1, _decoder(latent_1, hidden), seed=0
    )


def _bce(x, p):
    """Bernoulli negative log-likelihood per image, in nats (Keras's clip)."""
    p = np.clip(np.asarray(p, "float64"), 1e-7, 1.0 - 1e-7)
    return -(x * np.log(p) + (1.0 - x) * np.log(1.0 - p)).sum(-1)


def _active_units(means):
    return int((np.var(np.asarray(means, "float64"), axis=0) > 0.01).sum())


def evaluate_flat(vae, x, draws, seed):
    """Held-out negative ELBO of the flat VAE, from its public pieces."""
    rng = np.random.default_rng(seed)
    mean, log_var = (np.asarray(t, "float64") for t in vae.encode(x))
    kl = -0.5 * (1.0 + log_var - mean**2 - np.exp(log_var)).sum(-1)
    rec = np.mean(
        [
            _bce(
                x,
                vae.decode(
                    (
                        mean + np.exp(log_var / 2) * rng.normal(size=mean.shape)
                    ).astype("float32")
                ),
            )
            for _ in range(draws)
        ],
        axis=0,
    )
    return {
        "neg_elbo": float((rec + kl).mean()),
        "reconstruction": float(rec.mean()),
        "kl_1": float(kl.mean()),
        "kl_2": None,
        "active_1": _active_units(mean),
        "active_2": None,
    }


def evaluate_ladder(hvae, x, draws):
    """Held-out negative ELBO of the ladder VAE (its samplers draw)."""
    rec, kl_1, kl_2 = [], [], []
    for _ in range(draws):
        out = hvae(x, training=True)
        rec.append(_bce(x, out["reconstruction"]))
        kl_1.append(np.asarray(out["kl_1"], "float64"))
        kl_2.append(np.asarray(out["kl_2"], "float64"))
    rec, kl_1, kl_2 = (np.mean(t, axis=0) for t in (rec, kl_1, kl_2))
    (mean_1, _), (mean_2, _) = hvae.encode(x)
    return {
        "neg_elbo": float((rec + kl_1 + kl_2).mean()),
        "reconstruction": float(rec.mean()),
        "kl_1": float(kl_1.mean()),
        "kl_2": float(kl_2.mean()),
        "active_1": _active_units(mean_1),
        "active_2": _active_units(mean_2),
    }


def _row(name, params, r):
    def cell(v, fmt):
        return "-" if v is None else format(v, fmt)

    return (
        f"| {name} | {params:,} | {r['neg_elbo']:.2f} | "
        f"{r['reconstruction']:.2f} | {cell(r['kl_1'], '.2f')} | "
        f"{cell(r['kl_2'], '.2f')} | {cell(r['active_1'], 'd')} | "
        f"{cell(r['active_2'], 'd')} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="hierarchical_vae_digits.png")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--draws", type=int, default=10)
    args = parser.parse_args(argv)

    (x_train, _), (x_test, _) = load_digits(as_images=False)
    results = {}
    for name, build in [("VAE", build_flat_vae), ("Ladder", build_ladder_vae)]:
        keras.utils.set_random_seed(args.seed)
        model = build(args.hidden)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))

        def evaluate(model):
            if isinstance(model, VAE):
                return evaluate_flat(model, x_test, args.draws, args.seed)
            return evaluate_ladder(model, x_test, args.draws)

        before = evaluate(model)
        start = time.perf_counter()
        model.fit(x_train, epochs=args.epochs, batch_size=64, verbose=0)
        seconds = time.perf_counter() - start
        after = evaluate(model)
        results[name] = {
            "params": model.count_params(),
            "before": before,
            "after": after,
            "seconds": seconds,
            "model": model,
        }
        print(f"{name}: trained {args.epochs} epochs in {seconds:.0f} s")

    print(
        f"\nHeld-out digits ({len(x_test)}), {args.epochs} epochs, seed "
        f"{args.seed}, {keras.backend.backend()}; nats per image, "
        f"{args.draws} draws:\n"
    )
    print(
        "| model | parameters | -ELBO | reconstruction | KL z1 | KL z2 "
        "| active z1 | active z2 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, label in [("VAE", "VAE, z 8"), ("Ladder", "ladder, z1 4 + z2 4")]:
        r = results[name]
        print(_row(f"{label}, untrained", r["params"], r["before"]))
        print(_row(label, r["params"], r["after"]))
    ladder = results["Ladder"]["model"]
    samples = ladder.generate(100, seed=args.seed).reshape(-1, 8, 8, 1)
    save_png(image_grid(samples, columns=10, scale=4, padding=1), args.out)
    print(f"\nsaved 100 ancestral samples of the ladder VAE to {args.out}")
    for r in results.values():
        del r["model"]
    return results


if __name__ == "__main__":
    main()
