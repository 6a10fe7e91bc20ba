"""A linear-chain conditional random field (CRF) layer."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops import crf as crf_ops


@keras.saving.register_keras_serializable(package="keras_dlparts")
class CRF(keras.layers.Layer):
    """Linear-chain CRF (Lafferty et al., 2001) over any sequence encoder.

    The layer projects each step's features to `num_tags` unary scores
    (a Dense kernel and bias, unless `use_kernel=False`) and learns the
    transition matrix `A` (`transitions`, `A[i, j]`: tag `i` followed by
    tag `j`) and, with `use_boundary`, the scores of the first and last tag
    (`start_transitions`, `end_transitions`).

    Its output, in training and inference alike, is the CRF in pairwise
    form: `scores[b, t, i, j]`, the score of tag `i` at the previous real
    step followed by tag `j` at step `t` (unary plus transition, with the
    boundary scores folded into the first and last real steps). Masked
    steps (a Keras mask from `Embedding(mask_zero=True)`, or `mask=`) are
    identity steps, so the output holds the mask too. Hence a plain
    `model.compile(loss=keras_dlparts.losses.CRFLoss())` and `fit` train
    it, the model saves and loads with `safe_mode=True`, and
    `CRF.decode(scores)` gives the Viterbi tags (`model.predict` returns
    the scores; pass them to `decode`, or build a tagger model whose output
    is `crf.decode(scores)` on the same layers).

    Args:
        num_tags: positive integer, the number of tags.
        use_kernel: bool; if False the inputs are the unary scores and must
            have `num_tags` features.
        use_boundary: bool, whether to learn start and end scores.
        kernel_initializer: initializer of the projection's kernel.
        chain_initializer: initializer of the transition matrix.
        boundary_initializer: initializer of the start and end scores.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: float tensor `(batch, steps, features)`.
        mask: optional boolean `(batch, steps)`, True at real steps;
            Keras passes the incoming mask.

    Returns:
        Float32 tensor `(batch, steps, num_tags, num_tags)`, the pairwise
        scores (float32 under mixed precision too: they feed a
        log-likelihood). No mask is passed on: it is in the scores.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import CRF
        >>> crf = CRF(3)
        >>> scores = crf(np.ones((2, 5, 4), "float32"))
        >>> tuple(scores.shape), tuple(crf.decode(scores).shape)
        ((2, 5, 3, 3), (2, 5))
    """

    def __init__(
        self,
        num_tags,
        use_kernel=True,
        use_boundary=True,
        kernel_initializer="glorot_uniform",
        chain_initializer="orthogonal",
        boundary_initializer="zeros",
        **kwargs,
    ):
        _validation.positive_int("num_tags", num_tags)
        _validation.boolean("use_kernel", use_kernel)
        _validation.boolean("use_boundary", use_boundary)
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.use_kernel = use_kernel
        self.use_boundary = use_boundary
        self.kernel_initializer = _validation.initializer(
            "kernel_initializer", kernel_initializer
        )
        self.chain_initializer = _validation.initializer(
            "chain_initializer", chain_initializer
        )
        self.boundary_initializer = _validation.initializer(
            "boundary_initializer", boundary_initializer
        )
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        _validation.check_layout(
            "inputs", input_shape, ("batch", "steps", "features")
        )
        features = _validation.axis_size("inputs", input_shape, -1)
        if self.use_kernel:
            self.kernel = self.add_weight(
                shape=(features, self.num_tags),
                initializer=self.kernel_initializer,
                name="kernel",
            )
            self.bias = self.add_weight(
                shape=(self.num_tags,), initializer="zeros", name="bias"
            )
        elif features != self.num_tags:
            raise ValueError(
                "Argument `inputs` must have `num_tags`="
                f"{self.num_tags} features when `use_kernel=False` (they "
                f"are the unary scores). Received: inputs.shape={input_shape}"
            )
        # The chain's scores are read in float32 under mixed precision.
        self.transitions = self.add_weight(
            shape=(self.num_tags, self.num_tags),
            initializer=self.chain_initializer,
            name="transitions",
            autocast=False,
        )
        if self.use_boundary:
            self.start_transitions = self.add_weight(
                shape=(self.num_tags,),
                initializer=self.boundary_initializer,
                name="start_transitions",
                autocast=False,
            )
            self.end_transitions = self.add_weight(
                shape=(self.num_tags,),
                initializer=self.boundary_initializer,
                name="end_transitions",
                autocast=False,
            )

    def call(self, inputs, mask=None):
        potentials = inputs
        if self.use_kernel:
            potentials = ops.matmul(inputs, self.kernel) + self.bias
        potentials = ops.cast(potentials, "float32")
        if mask is None:
            mask = ops.ones_like(inputs[..., 0], dtype="bool")
        else:
            _validation.same_shape(
                "mask", mask, "inputs[..., 0]", tuple(inputs.shape[:2])
            )
            mask = ops.cast(mask, "bool")
        boundary = (
            (self.start_transitions, self.end_transitions)
            if self.use_boundary
            else (None, None)
        )
        return crf_ops.pairwise_scores(
            potentials, mask, self.transitions, *boundary
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2]) + (self.num_tags, self.num_tags)

    def compute_output_spec(self, inputs, mask=None):
        return keras.KerasTensor(
            self.compute_output_shape(inputs.shape), "float32"
        )

    def compute_mask(self, inputs, mask=None):
        return None

    @staticmethod
    def decode(scores):
        """The Viterbi tags of a CRF's pairwise `scores` (0 at masked steps).

        Args:
            scores: the layer's output `(batch, steps, num_tags, num_tags)`
                (a tensor, a NumPy array from `predict`, or a symbolic
                tensor of a functional model).

        Returns:
            int32 tensor `(batch, steps)`.
        """
        scores = ops.cast(scores, "float32")
        _validation.check_layout(
            "scores", scores, ("batch", "steps", "num_tags", "num_tags")
        )
        tags, _ = crf_ops.best_paths(scores)
        return ops.where(crf_ops.padding_steps(scores), 0, tags)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tags": self.num_tags,
            "use_kernel": self.use_kernel,
            "use_boundary": self.use_boundary,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "chain_initializer": keras.initializers.serialize(
                self.chain_initializer
            ),
            "boundary_initializer": keras.initializers.serialize(
                self.boundary_initializer
            ),
        }
