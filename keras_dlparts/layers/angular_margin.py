"""Additive angular (ArcFace) and cosine (CosFace) margin heads."""

import math

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.similarity import l2_normalize

_VARIANTS = ("arcface", "cosface")
# sin(theta) = sqrt(1 - cos^2) gets a floor under 1 - cos^2: the gradient
# of sqrt at 0 is infinite, which would turn the gradients of an embedding
# lying exactly on its class centre NaN. In float32, 1 - cos^2 is either 0
# or above 1e-8, so the floor changes nothing else.
_SIN_SQUARED_FLOOR = 1e-12


def _split_inputs(inputs, labels):
    """`(embeddings, labels)` from `head([embeddings, labels])`, `head(x)`
    or `head(x, labels)`."""
    if isinstance(inputs, (list, tuple)):
        if len(inputs) not in (1, 2) or (
            len(inputs) == 2 and labels is not None
        ):
            raise ValueError(
                "AngularMarginHead takes `embeddings` or `[embeddings, "
                f"labels]`. Received a {type(inputs).__name__} of "
                f"{len(inputs)} tensors"
                + (" and `labels`" if labels is not None else "")
            )
        if len(inputs) == 2:
            return inputs[0], inputs[1]
        return inputs[0], labels
    return inputs, labels


def _is_shape_list(shape):
    return (
        isinstance(shape, (list, tuple))
        and len(shape) > 0
        and any(isinstance(s, (list, tuple)) for s in shape)
    )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class AngularMarginHead(keras.layers.Layer):
    """Class logits with an angular (ArcFace) or cosine (CosFace) margin.

    Both the embeddings `x` and the class centres `W_j` (the columns of the
    `(features, num_classes)` kernel) are L2-normalised, so the logits
    depend on the angle `theta_j` between them only: `cos(theta_j)` is
    their dot product. With the labels `y` (training), the target class is
    made harder by a margin `m`:

    - `"arcface"` (Deng et al., 2019, additive angular margin): the target
      logit is `scale * cos(theta_y + m)`. As in insightface, this is used
      only while `theta_y + m < pi` (where `cos(theta + m)` still falls as
      `theta` grows); beyond it the target logit is the linear fallback
      `scale * (cos(theta_y) - m * sin(m))`. With `easy_margin=True` the
      margin applies only where `cos(theta_y) > 0` and the target logit is
      `scale * cos(theta_y)` elsewhere.
    - `"cosface"` (Wang et al., 2018, large margin cosine loss): the target
      logit is `scale * (cos(theta_y) - m)`.

    Every other class gets `scale * cos(theta_j)`, and without labels
    (inference) all classes do: the argmax is the nearest class centre by
    angle. Train with
    `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`. The
    cosines and margins are computed in float32 (under a mixed policy too)
    and the logits returned in the layer's compute dtype.

    Args:
        num_classes: number of classes, a positive integer.
        margin: the margin `m`, a number in `[0, pi/2]` (radians for
            ArcFace); the papers use 0.5 (ArcFace) and 0.35 (CosFace).
        scale: the scale `s` of the logits, a positive number (the papers
            use 64; small problems train faster with 10 to 30).
        variant: `"arcface"` or `"cosface"`.
        easy_margin: ArcFace only: margin only where `cos(theta_y) > 0`.
        kernel_initializer: initializer of the `(features, num_classes)`
            class centres.
        kernel_regularizer: optional regularizer of the kernel.
        kernel_constraint: optional constraint of the kernel.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: embeddings `(batch, features)`, or a list
            `[embeddings, labels]`.
        labels: optional integer class labels `(batch,)` or `(batch, 1)`,
            when not given in `inputs`.

    Returns:
        Logits of shape `(batch, num_classes)`.

    Examples:

        >>> import numpy as np
        >>> head = AngularMarginHead(3, margin=0.5, scale=10.0)
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
        >>> labels = np.array([0, 2])
        >>> tuple(head([x, labels]).shape), tuple(head(x).shape)
        ((2, 3), (2, 3))
        >>> cos = np.asarray(head(x)) / 10.0  # no labels: plain cosines
        >>> margin = np.asarray(head([x, labels])) / 10.0
        >>> bool(np.all(margin[[0, 1], [0, 2]] < cos[[0, 1], [0, 2]]))
        True
    """

    def __init__(
        self,
        num_classes,
        margin=0.5,
        scale=64.0,
        variant="arcface",
        easy_margin=False,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = _validation.positive_int("num_classes", num_classes)
        self.margin = float(
            _validation.number("margin", margin, low=0.0, high=math.pi / 2)
        )
        self.scale = float(_validation.positive_number("scale", scale))
        self.variant = _validation.one_of("variant", variant, _VARIANTS)
        self.easy_margin = _validation.boolean("easy_margin", easy_margin)
        self.kernel_initializer = _validation.initializer(
            "kernel_initializer", kernel_initializer
        )
        self.kernel_regularizer = _validation.keras_lookup(
            "kernel_regularizer", kernel_regularizer, "regularizers"
        )
        self.kernel_constraint = _validation.keras_lookup(
            "kernel_constraint", kernel_constraint, "constraints"
        )

    def build(self, inputs_shape, labels_shape=None):
        if _is_shape_list(inputs_shape):
            inputs_shape, labels_shape = _split_inputs(
                inputs_shape, labels_shape
            )
        inputs_shape = tuple(inputs_shape)
        _validation.check_rank("inputs", inputs_shape, 2)
        features = _validation.axis_size("inputs", inputs_shape, -1)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, self.num_classes),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            autocast=False,  # float32 centres under a mixed policy too
        )

    def call(self, inputs, labels=None):
        embeddings, labels = _split_inputs(inputs, labels)
        _validation.check_rank("inputs", embeddings, 2)
        _validation.axis_size(
            "inputs", embeddings, -1, self.kernel.shape[0], " (the features)"
        )
        embeddings = l2_normalize(ops.cast(embeddings, "float32"), axis=-1)
        centres = l2_normalize(ops.cast(self.kernel, "float32"), axis=0)
        cos = ops.clip(ops.matmul(embeddings, centres), -1.0, 1.0)
        if labels is None:
            return ops.cast(self.scale * cos, self.compute_dtype)
        _validation.batch_vector("labels", labels)
        _validation.same_batch_size(("inputs", embeddings), ("labels", labels))
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        is_target = ops.equal(
            labels[:, None], ops.arange(self.num_classes, dtype="int32")
        )
        logits = ops.where(is_target, self._target_cosine(cos), cos)
        return ops.cast(self.scale * logits, self.compute_dtype)

    def _target_cosine(self, cos):
        """The target class's cosine with the margin, for every entry."""
        m = self.margin
        if self.variant == "cosface":
            return cos - m
        sin = ops.sqrt(ops.maximum(1.0 - ops.square(cos), _SIN_SQUARED_FLOOR))
        shifted = cos * math.cos(m) - sin * math.sin(m)  # cos(theta + m)
        if self.easy_margin:
            return ops.where(cos > 0.0, shifted, cos)
        # theta + m < pi  <=>  cos(theta) > cos(pi - m)
        return ops.where(
            cos > math.cos(math.pi - m), shifted, cos - m * math.sin(m)
        )

    def compute_output_shape(self, inputs_shape, labels_shape=None):
        if _is_shape_list(inputs_shape):
            inputs_shape, _ = _split_inputs(inputs_shape, labels_shape)
        return (tuple(inputs_shape)[0], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "margin": self.margin,
                "scale": self.scale,
                "variant": self.variant,
                "easy_margin": self.easy_margin,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
            }
        )
        return config
