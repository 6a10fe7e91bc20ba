"""transformer_layout_map: which weights it shards, and that training under
`keras.distribution.ModelParallel` with it gives the unsharded numbers."""

import json
import os
import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_dlparts.layers import MultiHeadAttention
from keras_dlparts.layers import TransformerDecoderBlock
from keras_dlparts.layers import TransformerEncoderBlock
from keras_dlparts.models import build_seq2seq_transformer
from keras_dlparts.models import build_transformer_classifier
from keras_dlparts.models import build_vit
from keras_dlparts.models import transformer_layout_map

M = "model"
# The intended layout of each sharded weight, by the end of its path
# (Megatron: q/k/v and the first FFN kernel split on their output, the
# attention output and the second FFN kernel on their input).
EXPECTED = {
    "query/kernel": (None, M, None),
    "key/kernel": (None, M, None),
    "value/kernel": (None, M, None),
    "query/bias": (M, None),
    "key/bias": (M, None),
    "value/bias": (M, None),
    "attention_output/kernel": (M, None, None),
    "general_kernel": (M, None, None),
    "additive_query_kernel": (M, None, None),
    "additive_key_kernel": (M, None, None),
    "additive_vector": (M, None),
    "cosine_scale": (M,),
    "feedforward_inner/kernel": (None, M),
    "feedforward_inner/bias": (M,),
    "feedforward_outer/kernel": (M, None),
}


def expected_axes(path, model_axis=M):
    for suffix, axes in EXPECTED.items():
        if path == suffix or path.endswith("/" + suffix):
            return tuple(model_axis if a == M else a for a in axes)
    return None


def mesh(axis_names=("batch", "model")):
    return keras.distribution.DeviceMesh(
        (1, 2), list(axis_names), devices=["cpu:0", "cpu:1"]
    )


def classifier():
    return build_transformer_classifier(
        (6, 5),
        3,
        embedding_dim=8,
        num_heads=2,
        intermediate_dim=16,
        num_layers=1,
        dropout=0.0,
    )


def vit():
    return build_vit(
        (8, 8, 1),
        4,
        3,
        embedding_dim=8,
        num_heads=2,
        intermediate_dim=16,
        num_layers=1,
        dropout=0.0,
    )


def seq2seq():
    return build_seq2seq_transformer(
        11,
        13,
        6,
        7,
        embedding_dim=8,
        num_heads=2,
        intermediate_dim=16,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dropout=0.0,
    )


def blocks(score):
    """A model of bare blocks with a non-default score (extra head weights)."""
    source = keras.Input((5, 8))
    target = keras.Input((4, 8))
    memory = TransformerEncoderBlock(2, 16, score=score, name="enc")(source)
    x = TransformerDecoderBlock(2, 16, score=score, name="dec")(target, memory)
    x = MultiHeadAttention(2, 4, score=score, name="mha")(x, memory)
    return keras.Model([source, target], x)


# (builder, number of weights the map must shard)
MODELS = {
    "classifier": (classifier, 10),
    "vit": (vit, 10),
    "seq2seq": (seq2seq, 10 + 17),
    "blocks_general": (lambda: blocks("general"), 11 + 19 + 8),
    "blocks_additive": (lambda: blocks("additive"), 13 + 23 + 10),
    "blocks_cosine": (lambda: blocks("cosine"), 11 + 19 + 8),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_layout_map_covers_exactly_the_attention_and_feedforward_weights(name):
    builder, num_sharded = MODELS[name]
    model = builder()
    layout_map = transformer_layout_map(mesh())
    sharded = 0
    for variable in model.weights:
        path = variable.path
        keys = [key for key in layout_map if re.fullmatch(key, path)]
        want = expected_axes(path)
        if want is None:
            assert keys == [] and layout_map[path] is None, path
            continue
        assert len(keys) == 1, (path, keys)
        axes = layout_map[path].axes
        assert axes == want, (path, axes)
        assert len(axes) == len(variable.shape), (path, variable.shape)
        # The split dimension holds whole heads / hidden units on each device.
        assert variable.shape[axes.index(M)] % 2 == 0, (path, variable.shape)
        sharded += 1
    assert sharded == num_sharded


def test_layout_map_uses_the_named_axis_and_the_mesh():
    device_mesh = mesh(("data", "tensor"))
    layout_map = transformer_layout_map(device_mesh, model_axis="tensor")
    assert layout_map.device_mesh is device_mesh
    assert layout_map["b/self_attention/value/kernel"].axes == (
        None,
        "tensor",
        None,
    )
    assert layout_map["b/feedforward_inner/bias"].axes == ("tensor",)
    assert (
        layout_map["b/self_attention/value/kernel"].device_mesh is device_mesh
    )
    # Bias of the output projections and layer outputs stay replicated.
    assert layout_map["b/self_attention/attention_output/bias"] is None
    assert layout_map["b/feedforward_outer/bias"] is None
    assert layout_map["b/self_attention/query/output"] is None


def test_layout_map_validates_its_arguments():
    with pytest.raises(TypeError, match="`device_mesh` must be a"):
        transformer_layout_map(["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="`model_axis` must be one of"):
        transformer_layout_map(mesh(("batch", "data")))
    with pytest.raises(TypeError, match=r"Received: model_axis=1"):
        transformer_layout_map(mesh(), model_axis=1)


# ----------------------------------------------------------------------
# Training under ModelParallel on 4 virtual CPU devices (JAX, subprocess).
# ----------------------------------------------------------------------

BATCH = 8


def _data(name):
    rng = np.random.default_rng(1)
    if name == "classifier":
        return rng.normal(size=(BATCH, 6, 5)).astype("float32"), rng.integers(
            0, 3, BATCH
        )
    source = rng.integers(0, 11, (BATCH, 6)).astype("int32")
    target = rng.integers(1, 13, (BATCH, 7)).astype("int32")
    source[:, -1] = 0  # some padding
    return [source, target[:, :-1]], target[:, 1:]


def _train_one_batch(name, weights=None):
    """Builds a model (with `weights`), fits one batch; returns loss, model."""
    builder = MODELS[name][0]
    model = builder()
    if weights is not None:
        model.set_weights(weights)
    loss = (
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if name == "seq2seq"
        else "sparse_categorical_crossentropy"
    )
    model.compile(keras.optimizers.SGD(0.5, momentum=0.9), loss)
    x, y = _data(name)
    history = model.fit(
        x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0
    )
    return history.history["loss"][0], model


def _model_parallel_worker(out_dir):
    """Trains each model unsharded, then on a 2 x 2 (batch, model) mesh."""
    import jax

    assert jax.device_count() == 4, jax.devices()
    results = {}
    for name in ("classifier", "seq2seq"):
        keras.utils.set_random_seed(0)
        initial = MODELS[name][0]().get_weights()
        ref_loss, ref_model = _train_one_batch(name, initial)
        device_mesh = keras.distribution.DeviceMesh(
            (2, 2), ["batch", "model"], keras.distribution.list_devices()
        )
        distribution = keras.distribution.ModelParallel(
            layout_map=transformer_layout_map(device_mesh),
            batch_dim_name="batch",
        )
        with distribution.scope():
            loss, model = _train_one_batch(name, initial)
            specs = {
                v.path: [
                    a if a is None else str(a) for a in v.value.sharding.spec
                ]
                for v in model.weights
            }
            slot_specs = {
                v.path: [
                    a if a is None else str(a) for a in v.value.sharding.spec
                ]
                for v in model.optimizer.variables
                if "momentum" in v.path
            }
            weights = model.get_weights()
        np.savez(
            os.path.join(out_dir, f"{name}.npz"),
            *weights,
            *ref_model.get_weights(),
            *initial,
        )
        results[name] = {
            "loss": float(loss),
            "ref_loss": float(ref_loss),
            "paths": [v.path for v in model.weights],
            "specs": specs,
            "slot_specs": slot_specs,
        }
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f)


@pytest.mark.slow
@pytest.mark.backends("jax")
def test_model_parallel_training_matches_unsharded(tmp_path):
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "jax"
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    env["JAX_PLATFORMS"] = "cpu"
    env["CUDA_VISIBLE_DEVICES"] = ""
    process = subprocess.run(
        [sys.executable, str(pathlib.Path(__file__)), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for name, result in results.items():
        # The map's kernels really are split over "model", the rest replicated.
        sharded = 0
        for path, spec in result["specs"].items():
            want = expected_axes(path)
            spec = tuple(spec) + (None,) * (
                0 if want is None else len(want) - len(spec)
            )
            if want is None:
                assert set(spec) <= {None}, (name, path, spec)
            else:
                assert spec == want, (name, path, spec)
                sharded += 1
        assert sharded == MODELS[name][1], name
        # The optimizer's momentum slots have the layouts of their weights.
        for path, spec in result["specs"].items():
            slot = [
                s
                for k, s in result["slot_specs"].items()
                if k.endswith("/" + path.replace("/", "_") + "_momentum")
            ]
            assert slot == [spec], (name, path, slot)
        np.testing.assert_allclose(
            result["loss"], result["ref_loss"], atol=1e-5
        )
        arrays = np.load(tmp_path / f"{name}.npz")
        count = len(result["paths"])
        for i in range(count):
            sharded_w, ref_w = arrays[f"arr_{i}"], arrays[f"arr_{i + count}"]
            np.testing.assert_allclose(sharded_w, ref_w, atol=1e-5, rtol=1e-5)
        # The step moved every weight (so the comparison means something),
        # but the key biases: softmax ignores what they add to every score.
        for i, path in enumerate(result["paths"]):
            moved = np.abs(
                arrays[f"arr_{i + count}"] - arrays[f"arr_{i + 2 * count}"]
            )
            assert (moved.max() > 1e-4) != path.endswith("key/bias"), (
                name,
                path,
            )


if __name__ == "__main__":
    _model_parallel_worker(sys.argv[1])
