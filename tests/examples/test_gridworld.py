"""The grid-world example: value iteration, Q-learning, Q-network agree."""

import numpy as np
import pytest
from support.examples import load_example

gridworld = load_example("gridworld")

GAMMA = 0.9


@pytest.fixture(scope="module")
def env():
    return gridworld.GridWorld()


def optimal_q(env):
    values, _ = gridworld.value_iteration(env, gamma=GAMMA)
    s, a, r, nxt, done = env.transitions()
    return (r + GAMMA * values[nxt] * (1 - done)).reshape(
        env.num_states, env.num_actions
    )


def test_value_iteration_matches_hand_computed_values(env):
    values, policy = gridworld.value_iteration(env, gamma=GAMMA)
    # The shortest path from S to G takes 6 steps, so V(s) = gamma^(steps-1).
    assert values[14] == pytest.approx(1.0)  # next to the goal
    assert values[10] == pytest.approx(0.9)
    assert values[0] == pytest.approx(GAMMA**5)
    assert values[5] == 0.0 and values[15] == 0.0  # hole and goal are terminal
    assert env.reaches_goal(policy)


def test_tabular_q_learning_finds_the_optimal_values(env):
    q = gridworld.q_learning(env, episodes=2000, gamma=GAMMA, seed=0)
    reachable = [0, 1, 2, 4, 6, 8, 9, 10, 13, 14]
    np.testing.assert_allclose(
        q[reachable].max(1), optimal_q(env)[reachable].max(1), atol=1e-3
    )
    assert env.reaches_goal(q.argmax(1))


def test_q_network_learns_q_star_and_reaches_the_goal(env):
    model = gridworld.train_q_network(env, gamma=GAMMA)
    q = model.predict(np.arange(env.num_states), verbose=0)
    np.testing.assert_allclose(q, optimal_q(env), atol=1e-3)
    assert env.reaches_goal(q.argmax(1))


def test_walls_and_terminal_states(env):
    assert env.step(0, 0) == (0, 0.0, False)  # left wall
    assert env.step(14, 2) == (15, 1.0, True)  # into the goal
    assert env.step(4, 2) == (5, 0.0, True)  # into a hole
