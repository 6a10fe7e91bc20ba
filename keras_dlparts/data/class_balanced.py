"""P x K class-balanced batches of NumPy arrays, for metric learning.

Batch-hard triplet mining and the multi-similarity loss need positives in
every batch: P classes with K examples each. tf.data on every Keras
backend; TensorFlow is imported when a dataset is made, not when this
module is.
"""

import itertools
import math

import numpy as np

from keras_dlparts import _validation
from keras_dlparts.data._pipeline import augmenter
from keras_dlparts.data._pipeline import normalizer
from keras_dlparts.data.arrays import _examples


def class_balanced_batches(
    x,
    y,
    classes_per_batch,
    examples_per_class,
    seed=0,
    repeat=True,
    replace=True,
    normalize=None,
    augment=None,
):
    """Batches of `classes_per_batch` classes x `examples_per_class` each.

    Every batch holds exactly `P = classes_per_batch` distinct classes and
    `K = examples_per_class` examples of each (`P * K` examples, the `K`
    of a class consecutive), the batches that `TripletLoss(mining=
    "batch_hard")` and `MultiSimilarityLoss` need.

    Classes are drawn in rounds: each round is a random order of all the
    classes, cut into groups of `P`; a group that runs past the end of a
    round is completed from the start of the next one, whose order puts
    the group's classes last (so no class repeats within a batch). Every
    class therefore appears once per round: over any run of batches from
    the start, the counts of any two classes differ by at most one.

    Within a class, examples are drawn from a random order of all its
    examples, moving on (without repeats inside a batch) and reshuffling
    when they are used up, so every example is used before any is used
    again. A class with fewer than `K` examples gives all of them plus
    `K - n` drawn again at random (with replacement) when `replace=True`,
    and is refused with a ValueError when `replace=False`.

    With `repeat=True` (the default) the dataset never ends: pass
    `steps_per_epoch` to `fit`, e.g. `math.ceil(len(x) / (P * K))` batches,
    about as many examples as `x` holds. With `repeat=False` it is one
    pass of `max(ceil(C / P), ceil(len(x) / (P * K)))` batches (`C`
    classes): every class appears at least once, and `floor(B * P / C)` or
    `ceil(B * P / C)` times in `B` batches. Each new iteration of the
    dataset (each epoch of `fit`) draws a new pass; the `k`-th iteration
    is the same for the same `seed`.

    Args:
        x: an array of inputs, first axis the examples.
        y: integer class labels, shape `(len(x),)` (whole-number floats
            count; labels are `>= 0`).
        classes_per_batch: `P`, a positive integer, at most the number of
            classes in `y`.
        examples_per_class: `K`, a positive integer.
        seed: integer seed of the draws (the default 0: the same batches
            every run), or `None` for a random one.
        repeat: whether the dataset repeats forever (see above).
        replace: whether a class with fewer than `K` examples may repeat
            examples within a batch (else ValueError).
        normalize: as in `make_dataset`; `None` (the default) keeps `x`.
        augment: optional Keras layer, callable or list of them applied to
            each batch of inputs.

    Returns:
        A `tf.data.Dataset` of `(x_batch, y_batch)`, `P * K` examples each;
        `y_batch` in the dtype of `y`.

    Examples:

        >>> import numpy as np
        >>> x, y = np.arange(20, dtype="float32")[:, None], np.arange(20) % 5
        >>> data = class_balanced_batches(x, y, 2, 3, repeat=False)
        >>> len(data)  # max(ceil(5 / 2), ceil(20 / 6))
        4
        >>> [np.unique(b, return_counts=True)[1].tolist() for _, b in data]
        [[3, 3], [3, 3], [3, 3], [3, 3]]
    """
    x = _examples("x", x)
    labels = _validation.class_labels("y", y)
    _validation.same_batch_size(("x", x), ("y", labels))
    p = _validation.positive_int("classes_per_batch", classes_per_batch)
    k = _validation.positive_int("examples_per_class", examples_per_class)
    seed = _validation.random_seed("seed", seed)
    _validation.boolean("repeat", repeat)
    _validation.boolean("replace", replace)
    steps = [f for f in (normalizer(normalize), augmenter(augment)) if f]
    classes, members = _class_members(labels)
    if p > len(classes):
        raise ValueError(
            "Argument `classes_per_batch` must be at most the number of "
            f"classes in `y`, {len(classes)}. "
            f"Received: classes_per_batch={p}"
        )
    small = [c for c, m in zip(classes, members) if len(m) < k]
    if small and not replace:
        raise ValueError(
            f"Argument `examples_per_class` must not exceed the examples of "
            f"any class when replace=False. Received: examples_per_class={k}; "
            f"classes with fewer examples: {small[:5]}"
        )
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    count = None if repeat else _pass_length(len(classes), len(x), p, k)
    iterations = [0]

    def index_batches():
        rng = np.random.default_rng([seed, iterations[0]])
        iterations[0] += 1
        batches = _index_batches(members, p, k, rng)
        return batches if count is None else itertools.islice(batches, count)

    import tensorflow as tf

    dataset = tf.data.Dataset.from_generator(
        index_batches, output_signature=tf.TensorSpec((p * k,), tf.int64)
    )
    if count is not None:
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    inputs, targets = tf.constant(x), tf.constant(np.asarray(y))

    def gather(indices):
        batch = tf.gather(inputs, indices)
        for step in steps:
            batch = step(batch)
        return batch, tf.gather(targets, indices)

    return dataset.map(gather).prefetch(tf.data.AUTOTUNE)


def _pass_length(num_classes, num_examples, p, k):
    """Batches in one pass: every class once, about every example once."""
    return max(math.ceil(num_classes / p), math.ceil(num_examples / (p * k)))


def _class_members(labels):
    """The sorted classes and, for each, the indices of its examples."""
    classes, inverse = np.unique(labels, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))[:-1]
    return classes.tolist(), np.split(order, bounds)


def _reorder(rng, items, last):
    """A random order of `items` with those in `last` moved to the end."""
    order = rng.permutation(items)
    at_end = np.isin(order, list(last))
    return np.concatenate([order[~at_end], order[at_end]])


def _take(queue, count, rng, items):
    """The next `count` of a reshuffled queue of `items`, none twice."""
    taken = queue[:count]
    del queue[:count]
    if len(taken) < count:
        queue[:] = _reorder(rng, items, taken).tolist()
        more = count - len(taken)
        taken, queue[:] = taken + queue[:more], queue[more:]
    return taken


def _index_batches(members, p, k, rng):
    """Endless `P * K` index batches (see `class_balanced_batches`)."""
    class_ids = np.arange(len(members))
    rounds = []
    queues = [[] for _ in members]
    while True:
        chosen = _take(rounds, p, rng, class_ids)
        batch = []
        for c in chosen:
            examples = members[c]
            if len(examples) >= k:
                picks = _take(queues[c], k, rng, examples)
            else:  # all of them, then some again
                extra = rng.choice(examples, k - len(examples))
                picks = rng.permutation(examples).tolist() + extra.tolist()
            batch.extend(picks)
        yield np.asarray(batch, "int64")
