import os

import keras
import numpy as np
import pytest
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.pruning import MagnitudePruning
from keras_dlparts.callbacks.pruning import magnitude_mask
from keras_dlparts.callbacks.pruning import polynomial_sparsity
from keras_dlparts.data import load_digits
from keras_dlparts.testing import mirrored_strategy


def digits_mlp(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu", name="h1"),
            keras.layers.Dense(64, activation="relu", name="h2"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def zeros_of(model):
    return {l.name: l.kernel.numpy() == 0 for l in model.layers}


def test_schedule_matches_zhu_gupta():
    # s_t = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3, written out.
    s_i, s_f, t0, t1 = 0.1, 0.9, 100, 300
    for t in [0, 99, 100, 150, 200, 250, 299, 300, 1000]:
        if t < t0:
            expected = 0.0
        elif t >= t1:
            expected = s_f
        else:
            expected = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0)) ** 3
        assert polynomial_sparsity(t, s_f, t0, t1, s_i) == pytest.approx(expected)
    callback = MagnitudePruning(s_f, t0, t1, 50, initial_sparsity=s_i)
    assert callback.sparsity_at(200) == pytest.approx(0.9 - 0.8 / 8)


def test_mask_keeps_the_largest_magnitudes():
    w = np.array([[0.5, -3.0], [0.1, 2.0], [-0.2, 1.0]])
    np.testing.assert_array_equal(
        magnitude_mask(w, 0.5), [[False, True], [False, True], [False, True]]
    )
    assert magnitude_mask(w, 0.0).all()


def test_schedule_logged_and_zeros_stay_zero(tmp_path):
    (x, y), _ = load_digits(as_images=False)
    x, y = x[:320], y[:320]
    model = digits_mlp()
    log_dir = str(tmp_path / "logs")
    pruning = MagnitudePruning(
        0.75, begin_step=2, end_step=22, frequency=5, log_dir=log_dir
    )
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[pruning])  # 30 steps
    target = scalars(log_dir, "pruning/target_sparsity")
    updates = [(s, v) for s, v in target if s in (2, 7, 12, 17, 22)]
    assert [s for s, _ in updates] == [2, 7, 12, 17, 22]
    for step, value in updates:
        assert value == pytest.approx(0.75 - 0.75 * (1 - (step - 2) / 20) ** 3)
    measured = dict(scalars(log_dir, "pruning/sparsity/h1"))
    for step, wanted in updates:
        assert measured[step] == pytest.approx(wanted, abs=1e-3)
    assert measured[10] == pytest.approx(dict(updates)[7], abs=1e-3)  # epoch end
    zeros = zeros_of(model)
    for name, mask in zeros.items():
        assert mask.mean() == pytest.approx(0.75, abs=1e-3), name
    # Further training (Adam momentum would regrow them) keeps the zeros.
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[pruning])
    for name, mask in zeros_of(model).items():
        np.testing.assert_array_equal(mask, zeros[name])
    # Save and load: the zeros are in the file; a new callback keeps them.
    path = os.path.join(str(tmp_path), "pruned.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    again = MagnitudePruning(0.75, begin_step=2, end_step=22, frequency=5)
    reloaded.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[again])
    for name, mask in zeros_of(reloaded).items():
        np.testing.assert_array_equal(mask, zeros[name])


@pytest.mark.slow
def test_digits_mlp_pruned_to_80_percent_keeps_accuracy():
    (x, y), (x_test, y_test) = load_digits(as_images=False)
    dense = digits_mlp()
    dense.fit(x, y, batch_size=32, epochs=20, verbose=0)
    pruned = digits_mlp()
    pruning = MagnitudePruning(0.8, begin_step=0, end_step=400, frequency=20)
    pruned.fit(x, y, batch_size=32, epochs=20, verbose=0, callbacks=[pruning])
    for mask in zeros_of(pruned).values():
        assert mask.mean() == pytest.approx(0.8, abs=1e-3)
    dense_acc = dense.evaluate(x_test, y_test, verbose=0)[1]
    pruned_acc = pruned.evaluate(x_test, y_test, verbose=0)[1]
    assert dense_acc > 0.93
    assert pruned_acc >= dense_acc - 0.02


def test_layer_selection_and_errors():
    model = digits_mlp()
    pruning = MagnitudePruning(0.5, 0, 10, 1, layer_names=["h2"])
    model.fit(
        np.ones((4, 64)),
        np.zeros(4),
        epochs=1,
        batch_size=2,
        verbose=0,
        callbacks=[pruning],
    )
    assert set(pruning.kernels) == {"h2"}
    with pytest.raises(ValueError, match="target_sparsity"):
        MagnitudePruning(1.0)
    with pytest.raises(ValueError, match="end_step"):
        MagnitudePruning(0.5, begin_step=10, end_step=10)
    with pytest.raises(ValueError, match="frequency"):
        MagnitudePruning(0.5, frequency=0)
    with pytest.raises(ValueError, match="initial_sparsity"):
        MagnitudePruning(0.5, initial_sparsity=0.6)


def test_under_mirrored_strategy():
    with mirrored_strategy().scope():
        model = digits_mlp()
    (x, y), _ = load_digits(as_images=False)
    pruning = MagnitudePruning(0.6, begin_step=0, end_step=6, frequency=2)
    model.fit(x[:320], y[:320], batch_size=32, epochs=1, verbose=0, callbacks=[pruning])
    for mask in zeros_of(model).values():
        assert mask.mean() == pytest.approx(0.6, abs=1e-3)
