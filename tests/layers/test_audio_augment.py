import numpy as np
import pytest
from support.backend import MappedBatches

from keras_dlparts.layers.audio_augment import AddBackgroundNoise
from keras_dlparts.layers.audio_augment import RandomGain
from keras_dlparts.layers.audio_augment import RandomPitchShift
from keras_dlparts.layers.audio_augment import RandomTimeShift
from keras_dlparts.layers.audio_augment import RandomTimeStretch
from keras_dlparts.testing import check_layer

FS = 4096  # samples per "second" in these tests


def tone(freq, seconds=1.0, batch=1, start=0.0, stop=None):
    t = np.arange(int(FS * seconds)) / FS
    wave = np.sin(2 * np.pi * freq * t)
    if stop is not None:
        wave = wave * ((t >= start) & (t < stop))
    return np.tile(wave, (batch, 1)).astype("float32")


def peak_hz(wave):
    spectrum = np.abs(np.fft.rfft(wave))
    return np.argmax(spectrum) * FS / len(wave)


def in_training(layer):
    """`layer` as a one-argument function called with `training=True`."""
    return lambda batch: layer(batch, training=True)


@pytest.mark.slow
def test_contract_time_stretch():
    x = np.random.default_rng(0).normal(size=(8, 64, 2)).astype("float32")
    check_layer(
        RandomTimeStretch,
        {"min_rate": 0.8, "max_rate": 1.2, "frame_length": 16, "seed": 1},
        x,
        reference=lambda layer, x: x,
    )


OTHERS = [
    (RandomTimeShift, {"max_shift": 0.2, "seed": 1}),
    (RandomGain, {"min_gain_db": -3.0, "max_gain_db": 3.0, "seed": 1}),
    (AddBackgroundNoise, {"min_snr_db": 5.0, "max_snr_db": 20.0, "seed": 1}),
    (RandomPitchShift, {"min_semitones": -1.0, "frame_length": 16, "seed": 1}),
]


@pytest.mark.slow
@pytest.mark.parametrize("cls, kwargs", OTHERS)
def test_contract(cls, kwargs):
    x = np.random.default_rng(0).normal(size=(8, 64)).astype("float32")
    check_layer(
        cls,
        kwargs,
        x,
        reference=lambda layer, x: x,
    )


@pytest.mark.slow
def test_time_stretch_rate_one_is_exact():
    x = np.random.default_rng(1).normal(size=(3, 1000, 2)).astype("float32")
    y = RandomTimeStretch(1.0, 1.0, frame_length=64)(x, training=True)
    np.testing.assert_allclose(y, x, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_keeps_pitch_and_scales_duration(rate):
    # A 0.4 s burst of 300 Hz at the start of a 1 s clip.
    x = tone(300.0, stop=0.4)
    y = np.asarray(
        RandomTimeStretch(rate, rate, frame_length=256)(x, training=True)
    )[0]
    assert abs(peak_hz(y) - 300.0) <= 2.0
    energy = np.cumsum(y**2) / np.sum(y**2)
    end = np.searchsorted(energy, 0.99) / FS
    assert end == pytest.approx(0.4 / rate, abs=0.03)


@pytest.mark.slow
@pytest.mark.parametrize("semitones", [-5.0, 7.0])
def test_pitch_shift_moves_pitch_and_keeps_duration(semitones):
    x = tone(400.0, stop=0.6)
    layer = RandomPitchShift(semitones, semitones, frame_length=256)
    y = np.asarray(layer(x, training=True))[0]
    assert abs(peak_hz(y) - 400.0 * 2 ** (semitones / 12)) <= 2.0
    energy = np.cumsum(y**2) / np.sum(y**2)
    assert np.searchsorted(energy, 0.99) / FS == pytest.approx(0.6, abs=0.03)


@pytest.mark.slow
def test_time_shift_distribution_and_zero_fill():
    x = np.zeros((2000, 101), "float32")
    x[:, 50] = 1.0
    y = np.asarray(RandomTimeShift(0.1, seed=0)(x, training=True))
    shift = np.argmax(y, axis=1) - 50
    assert np.all(y.sum(1) == 1.0)  # one impulse, moved, nothing else
    assert set(shift) == set(range(-10, 11))  # m = floor(0.1 * 101)
    assert abs(shift.mean()) < 0.5
    ramp = np.tile(np.arange(1, 101, dtype="float32"), (500, 1))
    out = np.asarray(RandomTimeShift(0.3, seed=1)(ramp, training=True))
    for row in out:
        nz = np.flatnonzero(row)
        # a contiguous run of the ramp; zeros fill the rest
        np.testing.assert_array_equal(np.diff(row[nz]), 1.0)
    wrapped = np.asarray(
        RandomTimeShift(0.3, wrap=True, seed=1)(ramp, training=True)
    )
    np.testing.assert_array_equal(np.sort(wrapped, 1), ramp)


def test_gain_range_and_distribution():
    x = np.random.default_rng(2).normal(size=(2000, 50, 2)).astype("float32")
    y = np.asarray(RandomGain(-6.0, 6.0, seed=0)(x, training=True))
    ratio = y / x
    assert np.allclose(ratio, ratio[:, :1, :1], rtol=1e-4)
    db = 20 * np.log10(ratio[:, 0, 0])
    assert db.min() >= -6.0 - 1e-4 and db.max() <= 6.0 + 1e-4
    assert db.mean() == pytest.approx(0.0, abs=0.3)
    assert np.std(db) == pytest.approx(12 / np.sqrt(12), rel=0.05)


@pytest.mark.slow
def test_background_noise_snr():
    x = tone(200.0, batch=500) * np.linspace(0.1, 2.0, 500)[:, None]
    x = x.astype("float32")
    y = np.asarray(AddBackgroundNoise(10.0, 30.0, seed=0)(x, training=True))
    noise = y - x
    # The noise power of a row is a mean of 4096 squared N(0, 1) draws: its
    # relative sd is sqrt(2 / 4096), so the measured SNR has an sd of
    # 10 / ln(10) * sqrt(2 / 4096) = 0.096 dB around the drawn one; each
    # row is checked to 5 sd, the 500 rows' mean and sd more tightly.
    sd = 10 / np.log(10) * np.sqrt(2 / 4096)
    snr = 10 * np.log10(np.mean(x**2, 1) / np.mean(noise**2, 1))
    assert snr.min() > 10.0 - 5 * sd and snr.max() < 30.0 + 5 * sd
    assert snr.mean() == pytest.approx(20.0, abs=0.6)
    fixed = AddBackgroundNoise(15.0, 15.0, seed=1)(x, training=True)
    noise = np.asarray(fixed) - x
    snr = 10 * np.log10(np.mean(x**2, 1) / np.mean(noise**2, 1))
    np.testing.assert_allclose(snr, 15.0, atol=5 * sd)
    assert snr.mean() == pytest.approx(15.0, abs=0.03)
    assert np.std(snr) == pytest.approx(sd, rel=0.15)
    silent = np.zeros((2, 100), "float32")
    np.testing.assert_array_equal(
        AddBackgroundNoise()(silent, training=True), silent
    )


@pytest.mark.slow
def test_python_data_pipeline_and_identity_outside_training():
    x = np.random.default_rng(3).normal(size=(6, 256)).astype("float32")
    layers = [cls(**kwargs) for cls, kwargs in OTHERS] + [
        RandomTimeStretch(frame_length=32, seed=0)
    ]
    for layer in layers:
        noisy = MappedBatches(x, 3, in_training(layer))
        out = np.concatenate([noisy[0], noisy[1]])
        assert out.shape == x.shape and not np.allclose(out, x)
        same = MappedBatches(x, 3, layer)
        np.testing.assert_array_equal(np.concatenate([same[0], same[1]]), x)


@pytest.mark.backends("tensorflow")
def test_tf_data_map_and_identity_outside_training():
    import tensorflow as tf

    x = np.random.default_rng(3).normal(size=(6, 256)).astype("float32")
    layers = [cls(**kwargs) for cls, kwargs in OTHERS] + [
        RandomTimeStretch(frame_length=32, seed=0)
    ]
    for layer in layers:
        ds = tf.data.Dataset.from_tensor_slices(x).batch(3)
        out = np.concatenate(list(ds.map(in_training(layer))))
        assert out.shape == x.shape and not np.allclose(out, x)
        same = np.concatenate(list(ds.map(layer)))
        np.testing.assert_array_equal(same, x)


@pytest.mark.slow
def test_seeded_runs_repeat():
    x = np.random.default_rng(4).normal(size=(4, 128)).astype("float32")
    a = RandomPitchShift(frame_length=32, seed=5)(x, training=True)
    b = RandomPitchShift(frame_length=32, seed=5)(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: AddBackgroundNoise(min_snr_db=float("nan")),
            ValueError,
            "min_snr_db=nan",
        ),
        (
            lambda: AddBackgroundNoise(max_snr_db=float("inf")),
            ValueError,
            "max_snr_db=inf",
        ),
        (
            lambda: RandomGain(min_gain_db=float("nan")),
            ValueError,
            "min_gain_db=nan",
        ),
        (lambda: RandomGain(max_gain_db="6"), TypeError, "max_gain_db"),
        (lambda: RandomTimeShift(float("nan")), ValueError, "max_shift=nan"),
        (lambda: RandomTimeShift(0.1, wrap="yes"), TypeError, "wrap"),
        (
            lambda: RandomTimeStretch(max_rate=float("inf")),
            ValueError,
            "max_rate=inf",
        ),
        (
            lambda: RandomTimeStretch(frame_length=16.0),
            TypeError,
            "frame_length",
        ),
        (
            lambda: RandomPitchShift(min_semitones=float("-inf")),
            ValueError,
            "min_semitones",
        ),
        (lambda: RandomPitchShift(3.0, 1.0), ValueError, "min_semitones"),
        (lambda: RandomGain(seed="x"), TypeError, "seed"),
    ],
)
def test_bad_numbers_are_refused_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs():
    with pytest.raises(ValueError, match="max_shift"):
        RandomTimeShift(1.5)
    with pytest.raises(ValueError, match="min_gain_db"):
        RandomGain(3.0, -3.0)
    with pytest.raises(ValueError, match="frame_length"):
        RandomTimeStretch(frame_length=15)
    with pytest.raises(ValueError, match="min_rate"):
        RandomTimeStretch(min_rate=0.0)
    with pytest.raises(ValueError, match="rank"):
        RandomGain()(np.ones((2,), "float32"))


@pytest.mark.parametrize(
    "layer",
    [
        RandomTimeShift(0.2, seed=0),
        RandomGain(seed=0),
        AddBackgroundNoise(seed=0),
        RandomTimeStretch(frame_length=16, seed=0),
        RandomPitchShift(frame_length=16, seed=0),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_empty_batch_gives_an_empty_output(layer):
    out = layer(np.zeros((0, 64), "float32"), training=True)
    assert tuple(out.shape) == (0, 64)
