"""Perceptual (feature) loss: distances between a frozen network's features."""

import keras
from keras import ops

from keras_dlparts import _validation

_BASE_LOSSES = ("mean_squared_error", "mean_absolute_error")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PerceptualLoss(keras.losses.Loss):
    """Perceptual loss: weighted distances between frozen network features.

    With `phi_l` the activations of the layer named `layer_names[l]` of the
    frozen `feature_model`, each image's loss is

    ```
    loss = sum_l weights[l] * mean((phi_l(y_true) - phi_l(y_pred))^2)
    ```

    the mean taken over each activation's non-batch axes (`|.|` instead of
    the square for `base_loss="mean_absolute_error"`), then reduced over
    the batch (weighted by `sample_weight`) as any Keras loss. This is the
    content loss of SRGAN (Ledig et al., 2017), the VGG19 `block5_conv4`
    activations ("phi_5,4"), and the feature reconstruction loss of Johnson
    et al. (2016).

    The feature model is frozen: it is set non-trainable, is not part of
    the model being trained, and the features of `y_true` are constants;
    gradients reach `y_pred` only. With pretrained VGG19 weights:

    ```python
    vgg = keras.applications.VGG19(
        weights="imagenet", include_top=False, input_shape=(None, None, 3)
    )
    loss = PerceptualLoss(vgg, ["block5_conv4"])
    ```

    VGG expects `keras.applications.vgg19.preprocess_input`'s inputs (BGR,
    ImageNet means subtracted): put that step in front of it (a functional
    model around it) when the images are in `[0, 1]`.

    Saving: the config holds the feature model's architecture
    (`keras.saving.serialize_keras_object`), not its weights, so a compiled
    model with this loss saves and reloads with `safe_mode=True`, but the
    reloaded loss's feature model has the weights its initializers give
    (the same only for seeded initializers). Restore pretrained weights
    after loading: `model.loss.feature_model.set_weights(vgg.get_weights())`.

    Args:
        feature_model: a built `keras.Model` (functional or Sequential)
            taking images shaped like `y_true`.
        layer_names: non-empty list of names of layers of `feature_model`
            (top-level layers, not layers inside a nested model).
        weights: `None` (1 for every layer) or one finite non-negative
            number per name.
        base_loss: `"mean_squared_error"` or `"mean_absolute_error"`.
        reduction, name: base `Loss` arguments. The distances are
            computed in float32.

    Examples:

        >>> import keras, numpy as np
        >>> from keras_dlparts.losses import PerceptualLoss
        >>> inputs = keras.Input((8, 8, 3))
        >>> features = keras.layers.Conv2D(4, 3, name="conv")(inputs)
        >>> net = keras.Model(inputs, features)
        >>> loss = PerceptualLoss(net, ["conv"])
        >>> x = np.random.default_rng(0).random((2, 8, 8, 3))
        >>> float(loss(x, x))
        0.0
    """

    def __init__(
        self,
        feature_model,
        layer_names,
        weights=None,
        base_loss="mean_squared_error",
        reduction="sum_over_batch_size",
        name="perceptual_loss",
    ):
        _validation.keras_object("feature_model", feature_model, keras.Model)
        layer_names = _validation.names("layer_names", layer_names)
        if not layer_names:
            raise ValueError(
                "Argument `layer_names` must name at least one layer. "
                "Received: layer_names=()"
            )
        try:
            feature_inputs = feature_model.inputs
        except (AttributeError, ValueError):
            feature_inputs = None
        if not feature_inputs:
            raise ValueError(
                "Argument `feature_model` must be a built model with inputs "
                "(functional, or Sequential starting with keras.Input). "
                f"Received: feature_model={feature_model!r}"
            )
        known = [layer.name for layer in feature_model.layers]
        unknown = [n for n in layer_names if n not in known]
        if unknown:
            raise ValueError(
                f"Argument `layer_names` must name layers of `feature_model`"
                f" ({known}). Received unknown names: {unknown}"
            )
        if weights is not None:
            weights = _validation.sequence(
                "weights",
                weights,
                lengths=(len(layer_names),),
                what=f"a list of {len(layer_names)} numbers, one per layer",
            )
            weights = tuple(
                _validation.non_negative_number(f"weights[{i}]", w)
                for i, w in enumerate(weights)
            )
        _validation.one_of("base_loss", base_loss, _BASE_LOSSES)
        super().__init__(name=name, reduction=reduction)
        self.feature_model = feature_model
        self.layer_names = layer_names
        self.weights = weights
        self.base_loss = base_loss
        self._extractor = keras.Model(
            feature_inputs,
            [feature_model.get_layer(n).output for n in layer_names],
        )
        feature_model.trainable = False

    def call(self, y_true, y_pred):
        _validation.same_shape("y_true", y_true, "y_pred", y_pred)
        _validation.min_rank("y_pred", y_pred, 2)
        if _validation.batch_size(y_pred) == 0:
            # An empty batch: TensorFlow's eager convolutions refuse it.
            return ops.zeros((0,), "float32")
        true_features = keras.tree.flatten(self._extractor(y_true))
        pred_features = keras.tree.flatten(self._extractor(y_pred))
        distance = ops.abs if self.base_loss == _BASE_LOSSES[1] else ops.square
        weights = self.weights or (1.0,) * len(self.layer_names)
        total = 0.0
        for weight, true, pred in zip(weights, true_features, pred_features):
            true = ops.stop_gradient(ops.cast(true, "float32"))
            pred = ops.cast(pred, "float32")
            axes = tuple(range(1, len(pred.shape)))
            total = total + weight * ops.mean(distance(true - pred), axis=axes)
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "feature_model": keras.saving.serialize_keras_object(
                self.feature_model
            ),
            "layer_names": list(self.layer_names),
            "weights": None if self.weights is None else list(self.weights),
            "base_loss": self.base_loss,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["feature_model"] = keras.saving.deserialize_keras_object(
            config["feature_model"]
        )
        return cls(**config)
