"""A Q-network: action values of the discrete states of a small MDP."""

import keras

from keras_dlparts import _validation as args


def build_q_network(
    num_states,
    num_actions,
    hidden_units=(),
    activation="relu",
    use_bias=True,
    name="q_network",
):
    """Builds `Q(s, .)`: state ids -> one-hot -> MLP -> one value per action.

    With `hidden_units=()` the network is linear in the one-hot state, so
    its weights are exactly a Q-table `Q[s, a]` (the classic Frozen Lake
    Q-network); hidden layers let values generalise between states when the
    inputs carry more than identity. Train it on Q-learning targets
    `r + gamma * max_a' Q(s', a')` with a plain `fit` (see
    `examples/gridworld.py`).

    Args:
        num_states: number of states (ids `0 .. num_states - 1`).
        num_actions: number of actions.
        hidden_units: widths of the hidden Dense layers.
        activation: their activation.
        use_bias: whether the output layer has a bias.
        name: the model's name.

    Returns:
        A `keras.Model` mapping int state ids `(batch,)` to action values
        `(batch, num_actions)`.

    Examples:

        >>> import numpy as np
        >>> model = build_q_network(num_states=16, num_actions=4)
        >>> model.predict(np.array([0, 5]), verbose=0).shape
        (2, 4)
    """
    args.positive_int("num_states", num_states)
    args.positive_int("num_actions", num_actions)
    hidden_units = args.positive_ints_or_empty("hidden_units", hidden_units)
    args.keras_lookup("activation", activation, "activations")
    args.boolean("use_bias", use_bias)
    states = keras.Input(shape=(), dtype="int32", name="state")
    x = keras.layers.CategoryEncoding(
        num_states, output_mode="one_hot", name="one_hot"
    )(states)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(
            units, activation=activation, name=f"hidden_{i}"
        )(x)
    # Linear: start from the all-zero Q-table; with hidden layers zero output
    # weights would block the gradient to them.
    values = keras.layers.Dense(
        num_actions,
        use_bias=use_bias,
        kernel_initializer="glorot_uniform" if hidden_units else "zeros",
        name="action_values",
    )(x)
    return keras.Model(states, values, name=name)
