import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.models import digits_features
from keras_dlparts.models import digits_judge
from keras_dlparts.models import fd_digits
from keras_dlparts.ops import frechet_distance


@pytest.mark.slow
@pytest.mark.learning
def test_judge_accuracy_and_fd_digits_orders_real_and_noise():
    (x_train, _), (x_test, y_test) = load_digits()
    judge = digits_judge()
    assert digits_judge() is judge  # trained once per process
    predicted = judge.predict(x_test.reshape(-1, 64), verbose=0).argmax(-1)
    assert np.mean(predicted == y_test) > 0.95
    halves = fd_digits(x_test[::2], x_test[1::2])
    noise = fd_digits(x_test, np.random.default_rng(0).random(x_test.shape))
    assert 0.0 <= halves < 0.1 * noise
    assert fd_digits(x_train, x_test) < halves  # more images, less bias
    # FD-digits is the Frechet distance of the judge's features.
    features = digits_features(x_test[:100, ..., 0])  # (n, 8, 8) accepted
    assert features.shape == (100, 32)
    np.testing.assert_allclose(
        fd_digits(x_test[:100], x_test[100:200].reshape(-1, 64)),
        float(frechet_distance(features, digits_features(x_test[100:200]))),
        rtol=1e-5,
    )


def test_fd_digits_refusals_name_the_argument():
    x = np.zeros((4, 8, 8))
    with pytest.raises(ValueError, match="images_a.*8x8"):
        fd_digits(np.zeros((4, 7, 7)), x)
    with pytest.raises(ValueError, match="images_b.*at least 2"):
        fd_digits(x, x[:1])
    with pytest.raises(ValueError, match="images_b.*\\[0, 1\\]"):
        fd_digits(x, x + 2.0)
    with pytest.raises(TypeError, match="images_a"):
        fd_digits(np.full((4, 64), "a"), x)
    with pytest.raises(ValueError, match="images"):
        digits_features(np.zeros((0, 64)))
