"""The tuning example: three tuners, each trial logged to the HParams tab."""

import glob
import json
import os

import pytest
import tensorflow as tf
from support.examples import load_example
from tensorboard.plugins.hparams import plugin_data_pb2


def hparams_sessions(log_dir):
    """`{trial directory: {hparam: value}}` from the HParams plugin's events."""
    sessions = {}
    pattern = os.path.join(log_dir, "**", "events.out.tfevents.*")
    for path in glob.glob(pattern, recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content
                )
                if data.HasField("session_start_info"):
                    hparams = data.session_start_info.hparams
                    trial = os.path.relpath(os.path.dirname(path), log_dir)
                    sessions[trial] = {
                        k: getattr(v, v.WhichOneof("kind"))
                        for k, v in hparams.items()
                    }
    return sessions


@pytest.mark.slow
def test_three_tuners_log_every_trial_to_hparams(tmp_path):
    logdir = str(tmp_path / "logs")
    results = load_example("tuning_digits").main(
        ["--trials", "2", "--epochs", "2", "--logdir", logdir]
    )
    assert set(results) == {"random", "hyperband", "bayesian"}
    assert all(0.0 <= accuracy <= 1.0 for accuracy in results.values())
    assert max(results.values()) > 0.3  # at least one tuner found a working MLP

    sessions = hparams_sessions(logdir)
    for kind in results:
        trial_files = glob.glob(
            os.path.join(logdir, "tuner_state", kind, "trial_*", "trial.json")
        )
        assert len(trial_files) >= 2
        for path in trial_files:
            with open(path) as f:
                trial = json.load(f)
            logged = sessions[
                os.path.join(kind, trial["trial_id"], "execution0")
            ]
            values = trial["hyperparameters"]["values"]
            for name in (
                "learning_rate",
                "width",
                "depth",
                "optimizer",
                "batch_size",
            ):
                assert logged[name] == pytest.approx(values[name])
