"""Keras's classic optimizers against the textbook update rules.

Each test writes the textbook rule in NumPy (Goodfellow, Bengio and
Courville, *Deep Learning*, ch. 8, and the original papers), runs the Keras
optimizer for 20 steps on the fixed noisy quadratic of
`keras_dlparts.testing.optimizer_problem`, and compares every step to 1e-6
(in float64, with hyperparameters exact in float32 because Keras casts them
through float32). Where Keras's convention differs from the textbook, the
test says how, shows that the plain textbook rule does *not* match, and
shows the exact translation that does. docs/optimizers.md tabulates the
same differences.
"""

import keras
import numpy as np
import pytest
from support.optimizer_training import numpy_reference

from keras_dlparts.testing import ContractError
from keras_dlparts.testing import check_optimizer

LR = 0.125


def assert_matches(optimizer_fn, reference):
    check_optimizer(optimizer_fn, reference=reference, only=["reference"])


def assert_differs(optimizer_fn, reference):
    with pytest.raises(ContractError, match=r"\[reference\] .*exceeds"):
        check_optimizer(optimizer_fn, reference=reference, only=["reference"])


# --- SGD -------------------------------------------------------------------


def test_sgd_is_the_textbook_rule():
    # Algorithm 8.1: theta <- theta - eps * g. No difference.
    assert_matches(
        lambda: keras.optimizers.SGD(LR),
        numpy_reference(lambda w, g, s, t: w - LR * g),
    )


# --- Momentum ----------------------------------------------------------------


def momentum_step(alpha):
    # Algorithm 8.2: v <- alpha v - eps g; theta <- theta + v.
    def step(w, g, s, t):
        s["v"] = alpha * s["v"] - LR * g
        return w + s["v"]

    return step


def test_momentum_is_the_textbook_rule():
    assert_matches(
        lambda: keras.optimizers.SGD(LR, momentum=0.875),
        numpy_reference(momentum_step(0.875), "v"),
    )


def test_momentum_equals_the_accumulate_then_scale_form_for_constant_lr():
    # The other common form (PyTorch, Ng's course): v <- beta v + g;
    # theta <- theta - eps v. Keras's v is -eps times this v, so the two
    # agree while the learning rate is constant and differ under a schedule.
    def step(w, g, s, t):
        s["v"] = 0.875 * s["v"] + g
        return w - LR * s["v"]

    assert_matches(
        lambda: keras.optimizers.SGD(LR, momentum=0.875),
        numpy_reference(step, "v"),
    )


# --- Nesterov ----------------------------------------------------------------


def textbook_nesterov(alpha, report_lookahead):
    """Algorithm 8.3: the gradient is taken at the look-ahead theta+alpha v."""

    def reference(w0, gradient_fn, steps):
        theta, v, out = np.array(w0), np.zeros_like(w0), []
        for t in range(steps):
            g = gradient_fn(theta + alpha * v, t)
            v = alpha * v - LR * g
            theta = theta + v
            out.append(theta + alpha * v if report_lookahead else theta)
        return np.stack(out)

    return reference


def test_nesterov_keras_tracks_the_lookahead_point():
    # Keras's Nesterov takes the gradient at the variable it stores and
    # updates it by  theta <- theta + alpha v_new - eps g  (Bengio et al.,
    # 2013). Its variable is the textbook look-ahead point theta + alpha v:
    # the same algorithm after a change of variable, not the same weights.
    make = lambda: keras.optimizers.SGD(LR, momentum=0.875, nesterov=True)  # noqa: E731
    assert_matches(make, textbook_nesterov(0.875, report_lookahead=True))
    assert_differs(make, textbook_nesterov(0.875, report_lookahead=False))


# --- Adagrad -----------------------------------------------------------------


def adagrad_step(epsilon, inside_sqrt):
    def step(w, g, s, t):
        s["r"] = s["r"] + g**2
        if inside_sqrt:
            return w - LR * g / np.sqrt(s["r"] + epsilon)
        return w - LR * g / (epsilon + np.sqrt(s["r"]))

    return step


def adagrad_reference(epsilon, inside_sqrt, r0):
    step = adagrad_step(epsilon, inside_sqrt)

    def reference(w, gradient_fn, steps):
        state, out = {"r": np.full_like(w, r0)}, []
        for t in range(1, steps + 1):
            w = step(w, gradient_fn(w, t - 1), state, t)
            out.append(w)
        return np.stack(out)

    return reference


def test_adagrad_differences_from_the_textbook():
    # Algorithm 8.4: r <- r + g^2; theta <- theta - eps g / (delta + sqrt(r)),
    # r starting at 0. Keras: r starts at initial_accumulator_value = 0.1
    # and epsilon sits inside the root:
    # theta <- theta - eps g / sqrt(r + epsilon).
    make = lambda: keras.optimizers.Adagrad(LR, epsilon=1e-7)  # noqa: E731
    assert_matches(make, adagrad_reference(1e-7, inside_sqrt=True, r0=0.1))
    assert_differs(make, adagrad_reference(1e-7, inside_sqrt=False, r0=0.0))
    # Both differences matter: with the accumulator starting at 0, Keras
    # still differs from the book by where epsilon sits (small gradients
    # feel it), and matches the book's rule with epsilon moved inside.
    keras_from_zero = lambda: keras.optimizers.Adagrad(  # noqa: E731
        LR, initial_accumulator_value=0.0, epsilon=1e-7
    )
    assert_matches(keras_from_zero, adagrad_reference(1e-7, True, r0=0.0))
    assert_differs(keras_from_zero, adagrad_reference(1e-7, False, r0=0.0))


# --- RMSprop -----------------------------------------------------------------


def rmsprop_step(rho, epsilon, inside_sqrt):
    def step(w, g, s, t):
        s["r"] = rho * s["r"] + (1 - rho) * g**2
        if inside_sqrt:
            return w - LR * g / np.sqrt(epsilon + s["r"])
        return w - LR * g / (np.sqrt(s["r"]) + epsilon)

    return step


def test_rmsprop_is_goodfellows_rule_with_epsilon_inside_the_root():
    # Algorithm 8.5: r <- rho r + (1 - rho) g^2; theta <- theta - eps g /
    # sqrt(delta + r). Keras is exactly this (rho = 0.9 and epsilon = 1e-7 by
    # default; the book suggests delta = 1e-6). PyTorch and many notes put
    # epsilon outside the root, sqrt(r) + delta; a large epsilon shows it.
    make = lambda: keras.optimizers.RMSprop(LR, rho=0.875, epsilon=0.25)  # noqa: E731
    assert_matches(make, numpy_reference(rmsprop_step(0.875, 0.25, True), "r"))
    assert_differs(make, numpy_reference(rmsprop_step(0.875, 0.25, False), "r"))


# --- Adadelta ----------------------------------------------------------------


def adadelta_step(rho, epsilon, lr):
    # Zeiler (2012), Algorithm 1, with RMS[y] = sqrt(E[y^2] + epsilon).
    def step(w, g, s, t):
        s["g2"] = rho * s["g2"] + (1 - rho) * g**2
        delta = -np.sqrt(s["dx2"] + epsilon) / np.sqrt(s["g2"] + epsilon) * g
        s["dx2"] = rho * s["dx2"] + (1 - rho) * delta**2
        return w + lr * delta

    return step


def test_adadelta_scales_zeilers_step_by_a_learning_rate():
    # Zeiler's Adadelta has no learning rate (x <- x + delta). Keras
    # multiplies the step by learning_rate (default 0.001) while the
    # accumulator E[delta^2] keeps the unscaled delta: Zeiler's rule is
    # Keras with learning_rate=1.0. Defaults: rho 0.95 in both; epsilon
    # 1e-6 in the paper, 1e-7 in Keras.
    assert_matches(
        lambda: keras.optimizers.Adadelta(1.0, rho=0.875, epsilon=1e-6),
        numpy_reference(adadelta_step(0.875, 1e-6, 1.0), "g2", "dx2"),
    )
    assert_matches(
        lambda: keras.optimizers.Adadelta(LR, rho=0.875, epsilon=1e-6),
        numpy_reference(adadelta_step(0.875, 1e-6, LR), "g2", "dx2"),
    )
    assert_differs(
        lambda: keras.optimizers.Adadelta(LR, rho=0.875, epsilon=1e-6),
        numpy_reference(adadelta_step(0.875, 1e-6, 1.0), "g2", "dx2"),
    )


# --- Adam --------------------------------------------------------------------


def adam_step(beta_1, beta_2, epsilon, epsilon_hat):
    # Kingma and Ba (2015), Algorithm 1: m_hat = m / (1 - beta_1^t),
    # v_hat = v / (1 - beta_2^t),
    # theta <- theta - alpha m_hat / (sqrt(v_hat) + eps).
    def step(w, g, s, t):
        s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
        s["v"] = beta_2 * s["v"] + (1 - beta_2) * g**2
        m_hat = s["m"] / (1 - beta_1**t)
        v_hat = s["v"] / (1 - beta_2**t)
        eps = epsilon / np.sqrt(1 - beta_2**t) if epsilon_hat else epsilon
        return w - LR * m_hat / (np.sqrt(v_hat) + eps)

    return step


def test_adam_uses_the_epsilon_hat_form():
    # Keras folds the bias corrections into the step size,
    # alpha_t = alpha sqrt(1 - beta_2^t) / (1 - beta_1^t), and adds its
    # epsilon to sqrt(v), not to sqrt(v_hat) (the "epsilon hat" of the
    # paper's section 2). It equals Algorithm 1 with a step-dependent
    # epsilon_t = epsilon_hat / sqrt(1 - beta_2^t), i.e. a larger epsilon in
    # the first steps. Invisible at 1e-7, clear at epsilon = 0.25.
    betas = dict(beta_1=0.875, beta_2=1 - 2**-10)
    make = lambda: keras.optimizers.Adam(LR, epsilon=0.25, **betas)  # noqa: E731
    hat = adam_step(epsilon=0.25, epsilon_hat=True, **betas)
    plain = adam_step(epsilon=0.25, epsilon_hat=False, **betas)
    assert_matches(make, numpy_reference(hat, "m", "v"))
    assert_differs(make, numpy_reference(plain, "m", "v"))
