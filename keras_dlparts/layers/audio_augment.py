"""Waveform augmentation: time shift, gain, noise, time stretch, pitch shift.

The layers take waveforms of shape `(batch, time)` or `(batch, time,
channels)` and return the same shape. Every random parameter is drawn once
per example (per row of the batch).

Time stretching uses a phase vocoder (Flanagan and Golden, 1966; as in
`librosa.effects.time_stretch`), written with `keras.ops.stft` /
`keras.ops.istft` (Hann window, hop `frame_length / 4`). Output frame `k`
reads the input spectrogram at the fractional frame `t_k = k * rate`:

```
|Y_k| = (1 - a) |X_i| + a |X_{i+1}|,       i = floor(t_k), a = t_k - i
arg Y_k = arg X_0 + sum_{m < k} (arg X_{i_m + 1} - arg X_{i_m})
```

so each bin advances its phase at the input's own rate per output hop and
frequencies stay where they are. A different `rate` per example is just a
different gather, so the whole batch is one vectorised computation (a
cumulative sum carries the phases; no loop). Pitch shifting stretches by
`1 / s` with `s = 2 ** (semitones / 12)` and then reads the result at speed
`s` (linear interpolation): the duration comes back and every frequency is
multiplied by `s`.
"""

import math

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.layers.random_augmentation import RandomAugmentation


def read_at(signal, positions):
    """Linear interpolation of `signal` `(M, L)` at float `positions` `(M, P)`.

    Positions outside `[0, L - 1]` read zeros.
    """
    length = signal.shape[1]
    left = ops.floor(positions)
    frac = positions - left
    left = ops.cast(left, "int32")

    def sample(index):
        inside = ops.logical_and(index >= 0, index < length)
        values = ops.take_along_axis(
            signal, ops.clip(index, 0, length - 1), axis=1
        )
        return values * ops.cast(inside, signal.dtype)

    return sample(left) * (1.0 - frac) + sample(left + 1) * frac


def phase_vocoder(signal, rate, frame_length, out_length):
    """Time-stretches float32 `signal` `(M, T)` by `rate` `(M,)` (see module).

    Returns `(M, out_length)`: output time `t` plays input time `rate * t`;
    input beyond the end reads as silence. The signal is padded by
    `frame_length` zeros on both sides so that the STFT edges fall in
    silence.
    """
    hop = frame_length // 4
    pad = frame_length
    time = signal.shape[1]

    def padded_length(length):
        return -(-(length + 2 * pad) // hop) * hop

    total_in, total_out = padded_length(time), padded_length(out_length)
    x = ops.pad(signal, [[0, 0], [pad, total_in - time - pad]])
    real, imag = ops.stft(x, frame_length, hop, frame_length, center=True)
    frames_in = real.shape[1]
    zero = ops.zeros_like(real[:, :1])
    magnitude = ops.concatenate([ops.sqrt(real**2 + imag**2), zero], axis=1)
    phase = ops.concatenate([ops.arctan2(imag, real), zero], axis=1)
    # Output frame k reads analysis frame t_k; both grids start `pad` early.
    offset = pad / hop
    k = ops.cast(ops.arange(total_out // hop + 1), "float32")[None]
    t = ops.clip((k - offset) * rate[:, None] + offset, 0.0, float(frames_in))
    i0 = ops.cast(ops.floor(t), "int32")
    alpha = (t - ops.cast(i0, "float32"))[..., None]
    i1 = ops.minimum(i0 + 1, frames_in)

    def frames(values, index):
        return ops.take_along_axis(values, index[..., None], axis=1)

    magnitude = (
        frames(magnitude, i0) * (1.0 - alpha) + frames(magnitude, i1) * alpha
    )
    advance = frames(phase, i1) - frames(phase, i0)
    advance = advance - 2.0 * math.pi * ops.round(advance / (2.0 * math.pi))
    phase = frames(phase, i0[:, :1]) + ops.cumsum(advance, axis=1) - advance
    y = ops.istft(
        (magnitude * ops.cos(phase), magnitude * ops.sin(phase)),
        frame_length,
        hop,
        frame_length,
        length=total_out,
        center=True,
    )
    return y[:, pad : pad + out_length]


def _channels_as_rows(waveforms, per_example):
    """`(B, T, C)` -> `(B * C, T)` rows and the per-example values repeated."""
    channels = waveforms.shape[2]
    rows = ops.reshape(
        ops.transpose(waveforms, (0, 2, 1)), (-1, waveforms.shape[1])
    )
    return ops.cast(rows, "float32"), ops.repeat(per_example, channels, axis=0)


def _rows_as_channels(rows, like):
    """Inverse of `_channels_as_rows`, cast to `like`'s dtype."""
    batch = ops.shape(like)[0]
    out = ops.reshape(rows, (batch, like.shape[2], like.shape[1]))
    return ops.cast(ops.transpose(out, (0, 2, 1)), like.dtype)


class _AudioAugmentation(RandomAugmentation):
    """Shared waveform handling: rank 2 is one channel; draws per example."""

    allowed_ranks = (2, 3)

    def augment(self, inputs):
        if inputs.shape[0] == 0:  # an empty batch: nothing to draw (stft fails)
            return inputs
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
        return _validation.axis_size(
            "inputs", waveforms, 1, why=" (the time steps)"
        )


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

    Examples:

        >>> import numpy as np
        >>> x = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
        >>> layer = RandomTimeShift(max_shift=0.5, seed=0)
        >>> y = np.asarray(layer(x, training=True))
        >>> y.shape, float(np.abs(y).sum()) <= 10.0
        ((1, 4), True)
    """

    def __init__(self, max_shift, wrap=False, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _validation.fraction("max_shift", max_shift)
        _validation.boolean("wrap", wrap)
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
        return {
            **super().get_config(),
            "max_shift": self.max_shift,
            "wrap": self.wrap,
        }


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

    Examples:

        >>> import numpy as np
        >>> layer = RandomGain(min_gain_db=20.0, max_gain_db=20.0)
        >>> x = np.array([[0.5, -1.0]], "float32")
        >>> np.asarray(layer(x, training=True)).tolist()
        [[5.0, -10.0]]
    """

    def __init__(self, min_gain_db=-6.0, max_gain_db=6.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _validation.ordered(
            "min_gain_db", min_gain_db, "max_gain_db", max_gain_db
        )
        self.min_gain_db = min_gain_db
        self.max_gain_db = max_gain_db

    def augment_waveforms(self, waveforms):
        gain_db = self.per_example(
            waveforms, self.min_gain_db, self.max_gain_db
        )
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

    Examples:

        >>> import numpy as np
        >>> layer = AddBackgroundNoise(min_snr_db=20.0, max_snr_db=20.0, seed=0)
        >>> x = np.sin(np.linspace(0, 100, 8000))[None].astype("float32")
        >>> noise = np.asarray(layer(x, training=True)) - x
        >>> round(10 * np.log10(np.mean(x ** 2) / np.mean(noise ** 2)))
        20
    """

    def __init__(self, min_snr_db=10.0, max_snr_db=30.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _validation.ordered("min_snr_db", min_snr_db, "max_snr_db", max_snr_db)
        self.min_snr_db = min_snr_db
        self.max_snr_db = max_snr_db

    def augment_waveforms(self, waveforms):
        snr_db = self.per_example(waveforms, self.min_snr_db, self.max_snr_db)
        signal = ops.cast(waveforms, "float32")
        power = ops.mean(ops.square(signal), axis=(1, 2))
        scale = ops.sqrt(power * ops.power(10.0, -snr_db / 10.0))
        noise = keras.random.normal(
            ops.shape(waveforms), seed=self.seed_generator
        )
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
    A phase vocoder (see the module docstring) keeps the frequencies where
    they are.

    Args:
        min_rate, max_rate: positive floats, the tempo range.
        frame_length: integer multiple of 4, the STFT window in samples
            (about 20-50 ms of audio works well, e.g. 512 at 16 kHz).
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`
            with a known number of time steps.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = RandomTimeStretch(1.0, 1.0, frame_length=8)  # rate 1
        >>> x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]], "float32")
        >>> np.asarray(layer(x, training=True)).round(4).tolist()  # identity
        [[1.0, 2.0, 3.0, 4.0, 5.0]]
    """

    def __init__(
        self, min_rate=0.8, max_rate=1.25, frame_length=512, seed=None, **kwargs
    ):
        super().__init__(seed=seed, **kwargs)
        _validation.positive_number("min_rate", min_rate)
        _validation.positive_number("max_rate", max_rate)
        _validation.ordered("min_rate", min_rate, "max_rate", max_rate)
        _validation.multiple_of("frame_length", frame_length, 4)
        self.min_rate = min_rate
        self.max_rate = max_rate
        self.frame_length = frame_length

    def augment_waveforms(self, waveforms):
        time = self.static_time(waveforms)
        rate = self.per_example(waveforms, self.min_rate, self.max_rate)
        rows, rate = _channels_as_rows(waveforms, rate)
        stretched = phase_vocoder(rows, rate, self.frame_length, time)
        return _rows_as_channels(stretched, waveforms)

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
    multiplied by `2 ** (n / 12)` while the duration stays the same: a phase
    vocoder stretch by `2 ** (-n / 12)` followed by resampling (see the
    module docstring).

    Args:
        min_semitones, max_semitones: floats, the shift range (12 is an
            octave up, -12 an octave down).
        frame_length: integer multiple of 4, the STFT window in samples.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float waveforms `(batch, time)` or `(batch, time, channels)`
            with a known number of time steps.
        training: Python boolean; augment only when `True`.

    Returns:
        A tensor with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = RandomPitchShift(12.0, 12.0, frame_length=256)
        >>> t = np.arange(4096) / 4096.0
        >>> x = np.sin(2 * np.pi * 100 * t)[None].astype("float32")
        >>> y = np.asarray(layer(x, training=True))[0]
        >>> int(np.argmax(np.abs(np.fft.rfft(y))))  # 100 Hz -> one octave up
        200
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
        _validation.ordered(
            "min_semitones", min_semitones, "max_semitones", max_semitones
        )
        _validation.multiple_of("frame_length", frame_length, 4)
        self.min_semitones = min_semitones
        self.max_semitones = max_semitones
        self.frame_length = frame_length

    def augment_waveforms(self, waveforms):
        time = self.static_time(waveforms)
        semitones = self.per_example(
            waveforms, self.min_semitones, self.max_semitones
        )
        rows, speed = _channels_as_rows(
            waveforms, ops.power(2.0, semitones / 12.0)
        )
        # Stretch to `time * speed` samples (long enough for the fastest
        # speed in range), then read at `speed`: same duration, pitch * speed.
        longest = int(math.ceil(time * 2.0 ** (self.max_semitones / 12.0))) + 2
        stretched = phase_vocoder(rows, 1.0 / speed, self.frame_length, longest)
        positions = ops.cast(ops.arange(time), "float32")[None] * speed[:, None]
        return _rows_as_channels(read_at(stretched, positions), waveforms)

    def get_config(self):
        return {
            **super().get_config(),
            "min_semitones": self.min_semitones,
            "max_semitones": self.max_semitones,
            "frame_length": self.frame_length,
        }
