import keras
import numpy as np
import pytest
from support.optimizer_training import KERAS_ARGUMENT_CASES
from support.optimizer_training import fit_linear_least_squares
from support.optimizer_training import linear_least_squares_reference

from keras_dlparts.optimizers import NovoGrad
from keras_dlparts.testing import check_optimizer
from keras_dlparts.testing.optimizers import REFERENCE_SHAPES

# Values exact in float32 (Keras casts Python floats through float32).
EXACT = dict(learning_rate=0.0625, beta_1=0.875, beta_2=0.75, epsilon=2**-20)


def novograd_reference(
    lr,
    shapes,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-7,
    weight_decay=0.0,
    grad_averaging=False,
    amsgrad=False,
):
    """Algorithm 1 of Ginsburg et al. (2019) with TFA's options.

    The flat weights are split into the variables of `shapes`: each has its
    own scalar second moment (the squared norm of its gradient).
    """
    sizes = [int(np.prod(s)) for s in shapes]
    splits = np.cumsum(sizes)[:-1]

    def reference(w, gradient_fn, steps):
        m = np.zeros_like(w)
        v = np.zeros(len(sizes))
        v_max = np.zeros(len(sizes))
        out = []
        for t in range(1, steps + 1):
            g = gradient_fn(w, t - 1)
            norm2 = np.array([np.sum(p**2) for p in np.split(g, splits)])
            v = norm2 if t == 1 else beta_2 * v + (1 - beta_2) * norm2
            v_max = np.maximum(v_max, v)
            used = v_max if amsgrad else v
            denom = np.repeat(np.sqrt(used) + epsilon, sizes)
            u = g / denom + weight_decay * w
            if grad_averaging and t > 1:
                u = (1 - beta_1) * u
            m = beta_1 * m + u
            w = w - lr * m
            out.append(np.array(w))
        return np.stack(out)

    return reference


def _reference(shapes=REFERENCE_SHAPES, **kwargs):
    args = dict(EXACT, **kwargs)
    return novograd_reference(args.pop("learning_rate"), shapes, **args)


@pytest.mark.slow
def test_contract_and_reference():
    check_optimizer(lambda: NovoGrad(**EXACT), reference=_reference())


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"weight_decay": 0.125},
        {"grad_averaging": True},
        {"amsgrad": True},
        {"amsgrad": True, "grad_averaging": True, "weight_decay": 0.0625},
    ],
)
def test_matches_reference(kwargs):
    check_optimizer(
        lambda: NovoGrad(**dict(EXACT, **kwargs)),
        reference=_reference(**kwargs),
        only=["reference", "config"],
    )


def test_first_step_ignores_the_gradient_scale():
    for scale in (1e-2, 1e3):
        opt = NovoGrad(learning_rate=0.1)
        w = keras.Variable([0.0, 0.0])
        opt.apply(
            [keras.ops.convert_to_tensor([3.0 * scale, 4.0 * scale])], [w]
        )
        np.testing.assert_allclose(w.numpy(), [-0.06, -0.08], rtol=1e-4)


def test_fit_follows_the_numpy_rule():
    kwargs = {"weight_decay": 0.125, "grad_averaging": True}
    actual = fit_linear_least_squares(NovoGrad(**EXACT, **kwargs), 12)
    expected = linear_least_squares_reference(
        _reference(shapes=((5, 3), (3,)), **kwargs), 12
    )
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(np.diff(actual, axis=0))) > 1e-3


def test_weight_decay_is_the_papers_and_honours_exclusions():
    opt = NovoGrad(learning_rate=0.5, weight_decay=0.25)
    assert opt.weight_decay is None  # Keras's decoupled decay stays off.
    assert opt.get_config()["weight_decay"] == 0.25
    kept = keras.Variable(np.ones(2, "float32"), name="kept")
    decayed = keras.Variable(np.ones(2, "float32"), name="decayed")
    opt.exclude_from_weight_decay(var_names=["kept"])
    zeros = [np.zeros(2, "float32")] * 2
    opt.apply(zeros, [kept, decayed])
    np.testing.assert_allclose(decayed.numpy(), [0.875, 0.875], rtol=1e-6)
    np.testing.assert_array_equal(kept.numpy(), [1.0, 1.0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta_1": 1.0}, ValueError, "`beta_1` must be a float in \\[0, 1\\)"),
        ({"beta_2": 1.5}, ValueError, "`beta_2`"),
        ({"epsilon": 0.0}, ValueError, "`epsilon` must be a positive"),
        ({"weight_decay": float("inf")}, ValueError, "`weight_decay`"),
        ({"grad_averaging": 1}, TypeError, "`grad_averaging`"),
        ({"amsgrad": "yes"}, TypeError, "`amsgrad`"),
    ]
    + KERAS_ARGUMENT_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        NovoGrad(**kwargs)
