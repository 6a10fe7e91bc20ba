import os

import keras
import numpy as np
import pytest
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.retrieval_evaluator import RetrievalEvaluator
from keras_dlparts.losses import TripletLoss
from keras_dlparts.models import SiameseNetwork
from keras_dlparts.retrieval import evaluate_retrieval

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 6)).astype("float32")
Y = np.repeat(np.arange(4), 8)
XQ, YQ = X[::2], Y[::2]
XR, YR = X[1::2], Y[1::2]


def direct(encoder, reference=True, ks=(1, 3), metric="cosine"):
    """`evaluate_retrieval` on `encoder`'s embeddings, computed here."""

    def embed(x):
        return keras.ops.convert_to_numpy(encoder(x, training=False))

    if not reference:
        return evaluate_retrieval(embed(X), Y, ks=ks, metric=metric)
    return evaluate_retrieval(
        embed(XQ), YQ, embed(XR), YR, ks=ks, metric=metric
    )


class Recorder(keras.callbacks.Callback):
    """Records the epoch logs and a measurement made at that epoch."""

    def __init__(self, measure):
        super().__init__()
        self.measure = measure
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((epoch + 1, dict(logs), self.measure(self.model)))


def test_figures_equal_direct_evaluation_logs_and_events(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, name="code"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1), "mse")

    def measure(model):
        code = keras.Model(model.inputs, model.get_layer("code").output)
        return direct(code, metric="euclidean")

    log_dir = str(tmp_path)
    evaluator = RetrievalEvaluator(
        (XQ, YQ),
        (XR, YR),
        ks=(1, 3),
        metric="euclidean",
        every_n_epochs=2,
        log_dir=log_dir,
        layer_name="code",
    )
    recorder = Recorder(measure)
    history = model.fit(
        X,
        Y.astype("float32"),
        epochs=4,
        batch_size=8,
        verbose=0,
        callbacks=[evaluator, recorder],
    )
    names = ["recall@1", "precision@1", "recall@3", "precision@3", "map@r"]
    assert [step for step, _ in evaluator.history] == [2, 4]
    for epoch, logs, expected in recorder.seen:
        assert list(expected) == names
        if epoch % 2:
            assert "val_recall@1" not in logs
            continue
        assert dict(evaluator.history)[epoch] == expected
        for name in names:
            assert logs[f"val_{name}"] == pytest.approx(expected[name])
            assert (epoch, pytest.approx(expected[name])) in scalars(
                log_dir, f"retrieval/{name}"
            )
    for name in names:
        assert [s for s, _ in scalars(log_dir, f"retrieval/{name}")] == [2, 4]
        assert len(history.history[f"val_{name}"]) == 2


def test_embedding_model_of_a_siamese_network_is_live():
    keras.utils.set_random_seed(1)
    encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
    model = SiameseNetwork(encoder)
    model.compile(keras.optimizers.SGD(0.5), TripletLoss())
    initial = keras.ops.convert_to_numpy(encoder(X))
    evaluator = RetrievalEvaluator(
        (X, Y), ks=(1,), embedding_model=encoder, prefix=""
    )

    def measure(model):
        # The live model's own output, and the callback's encoder output.
        live = keras.ops.convert_to_numpy(model(X))
        mine = evaluator.embed(X)
        mine = mine / np.linalg.norm(mine, axis=1, keepdims=True)
        np.testing.assert_allclose(mine, live, atol=1e-5)
        assert not np.allclose(evaluator.embed(X), initial, atol=1e-3)
        return evaluate_retrieval(live, Y, ks=(1,))

    recorder = Recorder(measure)
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    model.fit(
        X,
        Y,
        epochs=2,
        batch_size=16,
        verbose=0,
        callbacks=[evaluator, recorder],
    )
    for epoch, logs, expected in recorder.seen:
        assert dict(evaluator.history)[epoch] == pytest.approx(expected)
        assert logs["map@r"] == pytest.approx(expected["map@r"])


def test_early_stopping_reads_the_figures():
    # The embedding layer is frozen: its recall@1 never improves.
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, name="code", trainable=False),
            keras.layers.Dense(1),
        ]
    )
    model.compile("sgd", "mse")
    evaluator = RetrievalEvaluator((XQ, YQ), (XR, YR), layer_name="code")
    stop = keras.callbacks.EarlyStopping(
        monitor="val_recall@1", mode="max", patience=1
    )
    history = model.fit(
        X, Y, epochs=6, verbose=0, callbacks=[evaluator, stop], batch_size=16
    )
    assert len(history.epoch) == 2
    code = keras.Model(model.inputs, model.get_layer("code").output)
    assert (
        history.history["val_recall@1"]
        == [direct(code, ks=(1, 5))["recall@1"]] * 2
    )


def test_no_log_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    evaluator = RetrievalEvaluator((X, Y), ks=(2,), batch_size=5)
    evaluator.set_model(model)
    assert evaluator.evaluate() == direct(model, reference=False, ks=(2,))
    logs = {}
    evaluator.on_epoch_end(0, logs)
    assert logs == {f"val_{k}": v for k, v in evaluator.history[0][1].items()}
    assert os.listdir(tmp_path) == []


def test_unknown_layer_is_named():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    evaluator = RetrievalEvaluator((X, Y), layer_name="missing")
    evaluator.set_model(model)
    with pytest.raises(ValueError, match="missing"):
        evaluator.evaluate()


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"query_data": None}, TypeError, "query_data"),
        ({"query_data": (X,)}, ValueError, "query_data"),
        ({"query_data": (X, Y[:3])}, ValueError, "query_data"),
        ({"query_data": (X, Y - 1)}, ValueError, "query_data"),
        ({"reference_data": (XR, YR[:2])}, ValueError, "reference_data"),
        ({"ks": (0,)}, ValueError, "ks"),
        ({"ks": "1"}, TypeError, "ks"),
        ({"ks": (32,)}, ValueError, "ks"),  # leave-one-out: at most 31
        ({"ks": (17,), "reference_data": (XR, YR)}, ValueError, "ks"),
        ({"metric": "manhattan"}, ValueError, "metric"),
        ({"every_n_epochs": 0}, ValueError, "every_n_epochs"),
        ({"log_dir": 3}, TypeError, "log_dir"),
        ({"embedding_model": "encoder"}, TypeError, "embedding_model"),
        ({"layer_name": ""}, ValueError, "layer_name"),
        (
            {"layer_name": "code", "embedding_model": keras.layers.Dense(2)},
            ValueError,
            "embedding_model",
        ),
        ({"prefix": None}, TypeError, "prefix"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_bad_arguments(kwargs, error, name):
    args = {"query_data": (X, Y), **kwargs}
    with pytest.raises(error, match=name):
        RetrievalEvaluator(**args)
