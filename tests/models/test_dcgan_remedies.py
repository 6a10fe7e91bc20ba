"""build_dcgan_discriminator's remedies: spectral_norm and minibatch_std."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import MinibatchStdDev
from keras_dlparts.models import build_dcgan_discriminator


def _discriminator(**kwargs):
    return build_dcgan_discriminator(
        (8, 8, 1), filters=(4,), num_classes=3, **kwargs
    )


def test_options_add_the_layers_and_refuse_bad_values():
    plain = _discriminator()
    remedied = _discriminator(spectral_norm=True, minibatch_std=2)
    kinds = [type(layer).__name__ for layer in remedied.layers]
    assert kinds.count("SpectralNormalization") == 2  # the conv, the dense
    assert "Conv2D" not in kinds and "Dense" not in kinds
    assert isinstance(
        remedied.layers[kinds.index("Flatten") - 1], MinibatchStdDev
    )
    # One more channel of 4x4 before the logit; a u vector per wrapper.
    assert remedied.count_params() == plain.count_params() + 16 + 4 + 1
    with pytest.raises(TypeError, match="spectral_norm"):
        _discriminator(spectral_norm=1)
    with pytest.raises(ValueError, match="minibatch_std"):
        _discriminator(minibatch_std=0)


@pytest.mark.slow
def test_spectral_norm_normalises_and_the_model_reloads_safely(tmp_path):
    d = _discriminator(spectral_norm=True, minibatch_std=4)
    rng = np.random.default_rng(0)
    x = rng.random((10, 8, 8, 1)).astype("float32")  # 10: a partial group
    y = np.arange(10, dtype="int32") % 3
    for _ in range(8):  # power iterations: each training call runs one
        d([x, y], training=True)
    for layer in d.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):
            kernel = np.asarray(layer.layer.kernel)
            matrix = kernel.reshape(-1, kernel.shape[-1])
            sigma = np.linalg.svd(matrix, compute_uv=False)[0]
            assert sigma == pytest.approx(1.0, abs=0.05)
    path = str(tmp_path / "d.keras")
    d.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert [type(a) for a in d.layers] == [type(b) for b in reloaded.layers]
    np.testing.assert_allclose(
        np.asarray(reloaded([x, y], training=False)),
        np.asarray(d([x, y], training=False)),
        rtol=1e-5,
        atol=1e-6,
    )
    clone = keras.Model.from_config(d.get_config())
    assert clone.count_params() == d.count_params()
