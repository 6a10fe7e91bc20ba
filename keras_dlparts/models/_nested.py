"""Config support for models built around other models (VAE, GAN, CLIP ...)."""

import keras


def serialize_models(model, names):
    """`{name: serialized getattr(model, name)}` for a `get_config()`."""
    return {
        name: keras.saving.serialize_keras_object(getattr(model, name))
        for name in names
    }


def deserialize_models(config, names):
    """A copy of `config` whose entries `names` are rebuilt models."""
    config = dict(config)
    for name in names:
        config[name] = keras.saving.deserialize_keras_object(config[name])
    return config
