"""Reinforcement learning on a small grid world: value iteration, tabular
Q-learning, then a Q-network trained with plain `fit`.

The world is Frozen Lake's 4x4 map, deterministic: start at S, reach G
(reward 1), fall into a hole H (episode ends, reward 0).

    S F F F
    F H F H
    F F F H
    H F F G

Run:  python examples/gridworld.py
(a few seconds; logs under ./logs/gridworld)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

MAP = ("SFFF", "FHFH", "FFFH", "HFFG")
ACTIONS = {
    0: (0, -1),
    1: (1, 0),
    2: (0, 1),
    3: (-1, 0),
}  # left, down, right, up
ACTION_NAMES = "<v>^"


class GridWorld:
    """A deterministic grid MDP: states are cells, numbered row by row."""

    def __init__(self, layout=MAP):
        self.layout = layout
        self.rows, self.cols = len(layout), len(layout[0])
        self.num_states = self.rows * self.cols
        self.num_actions = len(ACTIONS)
        self.start = self._find("S")
        self.goal = self._find("G")

    def _find(self, char):
        flat = "".join(self.layout)
        return flat.index(char)

    def is_terminal(self, state):
        return "".join(self.layout)[state] in "HG"

    def step(self, state, action):
        """Returns `(next_state, reward, done)`; walls keep the agent put."""
        if self.is_terminal(state):
            return state, 0.0, True
        row, col = divmod(state, self.cols)
        d_row, d_col = ACTIONS[action]
        row = min(max(row + d_row, 0), self.rows - 1)
        col = min(max(col + d_col, 0), self.cols - 1)
        nxt = row * self.cols + col
        return nxt, float(nxt == self.goal), self.is_terminal(nxt)

    def transitions(self):
        """Every (state, action, reward, next_state, done) of the MDP."""
        rows = []
        for s in range(self.num_states):
            for a in range(self.num_actions):
                nxt, r, done = self.step(s, a)
                rows.append((s, a, r, nxt, done))
        s, a, r, nxt, done = map(np.array, zip(*rows))
        return s, a, r.astype("float32"), nxt, done.astype("float32")

    def rollout(self, policy, max_steps=50):
        """Follows `policy[state]` from the start; returns the states seen."""
        state, path = self.start, [self.start]
        for _ in range(max_steps):
            if self.is_terminal(state):
                break
            state, _, _ = self.step(state, int(policy[state]))
            path.append(state)
        return path

    def reaches_goal(self, policy):
        return self.rollout(policy)[-1] == self.goal


def value_iteration(env, gamma=0.9, tolerance=1e-8):
    """Bellman optimality backups `V(s) <- max_a r + gamma V(s')` until
    they converge."""
    s, a, r, nxt, done = env.transitions()
    values = np.zeros(env.num_states)
    while True:
        q = (r + gamma * values[nxt] * (1 - done)).reshape(
            env.num_states, env.num_actions
        )
        new_values = np.where(
            [env.is_terminal(i) for i in range(env.num_states)], 0.0, q.max(1)
        )
        if np.max(np.abs(new_values - values)) < tolerance:
            return new_values, q.argmax(axis=1)
        values = new_values


def q_learning(env, episodes=2000, alpha=0.5, gamma=0.9, epsilon=0.3, seed=0):
    """Tabular Q-learning with an epsilon-greedy behaviour policy."""
    rng = np.random.default_rng(seed)
    q = np.zeros((env.num_states, env.num_actions))
    for _ in range(episodes):
        state = env.start
        for _ in range(100):
            if rng.random() < epsilon:
                action = int(rng.integers(env.num_actions))
            else:
                action = int(
                    rng.choice(np.flatnonzero(q[state] == q[state].max()))
                )
            nxt, reward, done = env.step(state, action)
            target = reward + gamma * q[nxt].max() * (not done)
            q[state, action] += alpha * (target - q[state, action])
            state = nxt
            if done:
                break
    return q


def train_q_network(
    env, gamma=0.9, rounds=20, epochs=100, log_dir=None, seed=0
):
    """Fitted Q-iteration: refit the network on `r + gamma max_a' Q(s', a')`.

    Every transition of the MDP is one training example (the world is small
    enough to enumerate them); each round computes fresh targets with the
    current network and fits on them, the target-network trick of DQN.
    """
    import keras

    from keras_dlparts.models import build_q_network

    keras.utils.set_random_seed(seed)
    s, a, r, nxt, done = env.transitions()
    model = build_q_network(env.num_states, env.num_actions)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    callbacks = [keras.callbacks.TensorBoard(log_dir)] if log_dir else []
    states = np.arange(env.num_states)
    for _ in range(rounds):
        q_next = model.predict_on_batch(nxt).max(axis=1)
        targets = model.predict_on_batch(states)  # (state, action) values
        targets[s, a] = r + gamma * q_next * (1 - done)
        # `epochs` passes over the states as one epoch: little per-step
        # overhead.
        model.fit(
            np.tile(states, epochs),
            np.tile(targets, (epochs, 1)),
            batch_size=env.num_states,
            shuffle=False,
            verbose=0,
            callbacks=callbacks,
        )
    return model


def main(log_dir="logs/gridworld"):
    env = GridWorld()
    values, vi_policy = value_iteration(env)
    print("value iteration V(s):\n", np.round(values.reshape(4, 4), 3))
    q_table = q_learning(env)
    q_policy = q_table.argmax(axis=1)
    model = train_q_network(env, log_dir=log_dir)
    net_policy = model.predict(np.arange(env.num_states), verbose=0).argmax(
        axis=1
    )
    for name, policy in (
        ("value iteration", vi_policy),
        ("Q-learning", q_policy),
        ("Q-network", net_policy),
    ):
        arrows = "".join(ACTION_NAMES[a] for a in policy)
        print(
            f"{name:>15}: reaches goal={env.reaches_goal(policy)} "
            f"path={env.rollout(policy)} "
            f"policy={arrows}"
        )
    return env, values, q_table, model


if __name__ == "__main__":
    main()
