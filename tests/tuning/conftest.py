"""A two-trial RandomSearch that records every model the hypermodel builds."""

import keras_tuner
import pytest


@pytest.fixture
def two_trial_search(tmp_path):
    """`search(hypermodel, x, y=None, objective="loss")` -> `[(values, model)]`.

    Runs RandomSearch with max_trials=2 and one epoch, and returns the
    hyperparameter values and the model of each trial (the tuner's first,
    space-declaring build left out).
    """

    def search(hypermodel, x, y=None, objective="loss"):
        built = []
        build = hypermodel.build  # what the tuner calls

        def recording_build(hp):
            model = build(hp)
            built.append((dict(hp.values), model))
            return model

        hypermodel.build = recording_build
        tuner = keras_tuner.RandomSearch(
            hypermodel,
            objective=objective,
            max_trials=2,
            seed=1,
            directory=str(tmp_path),
            project_name="search",
        )
        tuner.search(x, y, epochs=1, verbose=0)
        trials = [
            t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"
        ]
        assert len(trials) == 2
        assert all(t.score is not None and t.score == t.score for t in trials)
        return built[-2:]

    return search
