"""Waveform augmentation: time shift, gain, background noise, time stretch, pitch shift.

The layers take waveforms of shape `(batch, time)` or `(batch, time,
channels)` and return the same shape. Every random parameter is drawn once
per example (per row of the batch). Time stretching and pitch shifting use
overlap-add of Hann-windowed grains with 50% overlap (a granular / OLA
method): output grain `k` is centred at `c_k = k * frame_length / 2` and
reads the input around `c_k * hop_rate` at speed `read_rate`, with linear
interpolation,

```
y(c_k + j) += w(j) * x(c_k * hop_rate + read_rate * j),   |j| < N / 2
```

Periodic Hann windows at 50% overlap sum to one, so with both rates 1 the
input comes back exactly. A time stretch by `rate` uses `hop_rate = rate`,
`read_rate = 1` (tempo changes, pitch stays); a pitch shift by `n`
semitones uses `hop_rate = 1`, `read_rate = 2 ** (n / 12)` (pitch changes,
tempo stays). Grains are not phase-aligned (no WSOLA search or phase
vocoder), which is the usual trade-off for an augmentation: cheap, XLA
friendly, a little "phasey" on steady tones. The price is a frequency
error of a steady tone of at most half the grain rate, `sample_rate /
frame_length` Hz (31 Hz for `frame_length=512` at 16 kHz): a longer grain
gives a finer pitch, a shorter one a finer time resolution.
"""

import math

import keras
from keras import ops

from keras_dlparts.layers.random_augmentation import RandomAugmentation
from keras_dlparts.layers.random_augmentation import check_range
from keras_dlparts.layers.random_augmentation import check_rate


def _check_positive_even(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 2 or value % 2:
        raise ValueError(
            f"Argument `{name}` must be an even integer >= 2. Received: "
            f"{name}={value!r}"
        )


def grain_resample(waveforms, hop_rate, read_rate, frame_length):
    """Overlap-adds Hann grains read at `hop_rate` and `read_rate` (see module).

    Args:
        waveforms: float tensor `(batch, time, channels)` with a static time
            dimension.
        hop_rate, read_rate: float tensors `(batch,)`.
        frame_length: even grain length `N`.

    Returns:
        A tensor shaped like `waveforms`; input positions outside the
        waveform read as zeros.
    """
    time = waveforms.shape[1]
    half = frame_length // 2
    frames = -(-time // half) + 1
    batch = ops.shape(waveforms)[0]
    channels = waveforms.shape[2]
    # Grain k starts at (k - 1) * half, so that every output sample in
    # [0, time) is covered by two grains.
    centres = ops.cast(ops.arange(frames) * half, "float32")  # (K,)
    offsets = ops.cast(ops.arange(frame_length) - half, "float32")  # (N,)
    hop_rate = ops.reshape(ops.cast(hop_rate, "float32"), (-1, 1, 1))
    read_rate = ops.reshape(ops.cast(read_rate, "float32"), (-1, 1, 1))
    position = centres[None, :, None] * hop_rate + offsets[None, None] * read_rate
    position = ops.reshape(position, (batch, -1))  # (B, K * N)
    left = ops.floor(position)
    frac = (position - left)[..., None]
    left = ops.cast(left, "int32")
    flat = ops.reshape(waveforms, (-1, channels))
    base = (ops.arange(batch, dtype="int32") * time)[:, None]

    def read(index):
        inside = ops.logical_and(index >= 0, index < time)
        safe = ops.clip(index, 0, time - 1) + base
        values = ops.take(flat, safe, axis=0)  # (B, K * N, C)
        return values * ops.cast(inside, values.dtype)[..., None]

    dtype = waveforms.dtype
    grains = read(left) * ops.cast(1.0 - frac, dtype)
    grains = grains + read(left + 1) * ops.cast(frac, dtype)
    window = 0.5 - 0.5 * ops.cos(
        2.0 * math.pi * ops.cast(ops.arange(frame_length), "float32") / frame_length
    )
    grains = ops.reshape(grains, (batch, frames, frame_length, channels))
    grains = grains * ops.cast(window, dtype)[None, None, :, None]
    # Output block k (samples k*half .. (k+1)*half) = second half of grain
    # k plus first half of grain k + 1.
    blocks = grains[:, :-1, half:] + grains[:, 1:, :half]
    return ops.reshape(blocks, (batch, -1, channels))[:, :time]


class _AudioAugmentation(RandomAugmentation):
    """Shared waveform handling: rank 2 runs as one channel, draws per example."""

    allowed_ranks = (2, 3)

    def augment(self, inputs):
        if len(inputs.shape) == 2:
            return ops.squeeze(self.augment_waveforms(inputs[..., None]), -1)
        return self.augment_waveforms(inputs)

    def augment_waveforms(self, waveforms):
        """Augments `(batch, time, channels)` waveforms."""
        raise NotImplementedError

    def per_example(self, waveforms, minval, maxval):
        """Draws one uniform value per example, shape `(batch,)`."""
        return keras.random.uniform(
            (ops.shape(waveforms)[0],), minval, maxval, seed=self.seed_generator
        )

    def static_time(self, waveforms):
        if waveforms.shape[1] is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known number of time steps. "
                f"Received: inputs.shape={tuple(waveforms.shape)}"
            )
        return waveforms.shape[1]


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomTimeShift(_AudioAugmentation):
    """Shifts each waveform in time by a random number of samples.

    Each example is shifted by an integer `s` drawn uniformly from
    `[-m, m]` with `m = floor(max_shift * time)`: `y[t] = x[t - s]`, and
    the samples shifted in are zeros (or, with `wrap=True`, the samples
    shifted out at the other end).

    Args:
        max_shift: float in [0, 1], the largest shift as a fraction of the
            waveform length.
        wrap: bool, roll instead of padding with zeros.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
    >>> y = RandomTimeShift(max_shift=0.5, seed=0)(x, training=True).numpy()
    >>> y.shape, float(np.abs(y).sum()) <= 10.0
    ((1, 4), True)
    """

    def __init__(self, max_shift, wrap=False, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_rate("max_shift", max_shift)
        if not isinstance(wrap, bool):
            raise ValueError(f"Argument `wrap` must be a bool. Received: wrap={wrap!r}")
        self.max_shift = max_shift
        self.wrap = wrap

    def augment_waveforms(self, waveforms):
        time = self.static_time(waveforms)
        limit = int(self.max_shift * time)
        shift = keras.random.randint(
            (ops.shape(waveforms)[0], 1),
            -limit,
            limit + 1,
            seed=self.seed_generator,
            dtype="int32",
        )
        source = ops.arange(time, dtype="int32")[None] - shift  # (B, T)
        inside = ops.logical_and(source >= 0, source < time)
        source = ops.mod(source, time)
        shifted = ops.take_along_axis(waveforms, source[..., None], axis=1)
        if self.wrap:
            return shifted
        return shifted * ops.cast(inside, waveforms.dtype)[..., None]

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "wrap": self.wrap}


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomGain(_AudioAugmentation):
    """Scales each waveform by a random gain drawn in decibels.

    `y = x * 10 ** (g / 20)` with `g ~ U(min_gain_db, max_gain_db)` per
    example.

    Args:
        min_gain_db, max_gain_db: floats, the gain range in dB.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = RandomGain(min_gain_db=20.0, max_gain_db=20.0)
    >>> layer(np.array([[0.5, -1.0]], "float32"), training=True).numpy().tolist()
    [[5.0, -10.0]]
    """

    def __init__(self, min_gain_db=-6.0, max_gain_db=6.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_range("min_gain_db", min_gain_db, "max_gain_db", max_gain_db)
        self.min_gain_db = min_gain_db
        self.max_gain_db = max_gain_db

    def augment_waveforms(self, waveforms):
        gain_db = self.per_example(waveforms, self.min_gain_db, self.max_gain_db)
        gain = ops.power(10.0, gain_db / 20.0)
        return waveforms * ops.cast(gain, waveforms.dtype)[:, None, None]

    def get_config(self):
        return {
            **super().get_config(),
            "min_gain_db": self.min_gain_db,
            "max_gain_db": self.max_gain_db,
        }


@keras.saving.register_keras_serializable(package="keras_dlparts")
class AddBackgroundNoise(_AudioAugmentation):
    """Adds Gaussian background noise at a random signal-to-noise ratio.

    Per example, an SNR `r ~ U(min_snr_db, max_snr_db)` is drawn and white
    Gaussian noise of power `P_signal / 10 ** (r / 10)` is added, where
    `P_signal` is the example's mean square over time and channels:
    `y = x + sqrt(P_signal * 10 ** (-r / 10)) * n`, `n ~ N(0, 1)`.
    Silent examples stay silent.

    Args:
        min_snr_db, max_snr_db: floats, the SNR range in dB.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = AddBackgroundNoise(min_snr_db=20.0, max_snr_db=20.0, seed=0)
    >>> x = np.sin(np.linspace(0, 100, 8000))[None].astype("float32")
    >>> noise = layer(x, training=True).numpy() - x
    >>> round(10 * np.log10(np.mean(x ** 2) / np.mean(noise ** 2)))
    20
    """

    def __init__(self, min_snr_db=10.0, max_snr_db=30.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_range("min_snr_db", min_snr_db, "max_snr_db", max_snr_db)
        self.min_snr_db = min_snr_db
        self.max_snr_db = max_snr_db

    def augment_waveforms(self, waveforms):
        snr_db = self.per_example(waveforms, self.min_snr_db, self.max_snr_db)
        signal = ops.cast(waveforms, "float32")
        power = ops.mean(ops.square(signal), axis=(1, 2))
        scale = ops.sqrt(power * ops.power(10.0, -snr_db / 10.0))
        noise = keras.random.normal(ops.shape(waveforms), seed=self.seed_generator)
        noisy = signal + noise * scale[:, None, None]
        return ops.cast(noisy, waveforms.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "min_snr_db": self.min_snr_db,
            "max_snr_db": self.max_snr_db,
        }


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomTimeStretch(_AudioAugmentation):
    """Changes the tempo of each waveform by a random rate, keeping its pitch.

    Per example, `rate ~ U(min_rate, max_rate)`; output time `t` plays the
    input around time `rate * t` (rate > 1 is faster, so the content ends
    early and the rest is zeros; rate < 1 is slower and the end is cut).
    Grains of `frame_length` samples are overlap-added (see the module
    docstring), so frequencies stay where they are.

    Args:
        min_rate, max_rate: positive floats, the tempo range.
        frame_length: even integer, the grain length in samples (about
            20-50 ms of audio works well, e.g. 512 at 16 kHz).
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`
            with a known number of time steps.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = RandomTimeStretch(min_rate=1.0, max_rate=1.0, frame_length=4)
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]], "float32")
    >>> layer(x, training=True).numpy().tolist()  # rate 1 is the identity
    [[1.0, 2.0, 3.0, 4.0, 5.0]]
    """

    def __init__(
        self, min_rate=0.8, max_rate=1.25, frame_length=512, seed=None, **kwargs
    ):
        super().__init__(seed=seed, **kwargs)
        check_range("min_rate", min_rate, "max_rate", max_rate)
        if min_rate <= 0:
            raise ValueError(
                f"Argument `min_rate` must be positive. Received: min_rate={min_rate!r}"
            )
        _check_positive_even("frame_length", frame_length)
        self.min_rate = min_rate
        self.max_rate = max_rate
        self.frame_length = frame_length

    def augment_waveforms(self, waveforms):
        self.static_time(waveforms)
        rate = self.per_example(waveforms, self.min_rate, self.max_rate)
        return grain_resample(waveforms, rate, ops.ones_like(rate), self.frame_length)

    def get_config(self):
        return {
            **super().get_config(),
            "min_rate": self.min_rate,
            "max_rate": self.max_rate,
            "frame_length": self.frame_length,
        }


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomPitchShift(_AudioAugmentation):
    """Shifts the pitch of each waveform by a random number of semitones.

    Per example, `n ~ U(min_semitones, max_semitones)`; every frequency is
    multiplied by `2 ** (n / 12)` while the duration stays the same: the
    grains of the module docstring are read at speed `2 ** (n / 12)` and
    laid down at the original hop.

    Args:
        min_semitones, max_semitones: floats, the shift range (12 is an
            octave up, -12 an octave down).
        frame_length: even integer, the grain length in samples.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`
            with a known number of time steps.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = RandomPitchShift(12.0, 12.0, frame_length=256)
    >>> t = np.arange(4096) / 4096.0
    >>> x = np.sin(2 * np.pi * 100 * t)[None].astype("float32")
    >>> y = layer(x, training=True).numpy()[0]
    >>> peak = int(np.argmax(np.abs(np.fft.rfft(y))))  # 100 Hz, an octave up
    >>> abs(peak - 200) <= 4096 / 256  # within the grain-rate tolerance
    True
    """

    def __init__(
        self,
        min_semitones=-2.0,
        max_semitones=2.0,
        frame_length=512,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        check_range("min_semitones", min_semitones, "max_semitones", max_semitones)
        _check_positive_even("frame_length", frame_length)
        self.min_semitones = min_semitones
        self.max_semitones = max_semitones
        self.frame_length = frame_length

    def augment_waveforms(self, waveforms):
        self.static_time(waveforms)
        semitones = self.per_example(
            waveforms, self.min_semitones, self.max_semitones
        )
        speed = ops.power(2.0, semitones / 12.0)
        return grain_resample(waveforms, ops.ones_like(speed), speed, self.frame_length)

    def get_config(self):
        return {
            **super().get_config(),
            "min_semitones": self.min_semitones,
            "max_semitones": self.max_semitones,
            "frame_length": self.frame_length,
        }
