"""Sample grids from a generative model, to TensorBoard and PNG files.

Works on every backend; the images go to TensorBoard through
`tf.summary.image` (TensorFlow is imported when the first grid is written).
PNG files are written with Pillow (`pip install pillow`).
"""

import inspect
import math
import os

import numpy as np

from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback
from keras_dlparts._validation import positive_int


def image_grid(
    images, columns=None, scale=1, value_range=(0.0, 1.0), padding=0
):
    """Tiles images `(n, height, width, channels)` into one grid image.

    Values are mapped from `value_range` to [0, 1] and clipped; the grid
    has `columns` columns (default `ceil(sqrt(n))`), `padding` mid-grey
    (0.5) pixels between neighbouring images (visible on both black and
    white backgrounds), empty cells are black, and each
    pixel is enlarged to `scale x scale`.

    Returns:
        A float32 array `((rows * (height + padding) - padding) * scale,
        (columns * (width + padding) - padding) * scale, channels)` in
        [0, 1].

    Examples:

        >>> image_grid(np.ones((3, 2, 2, 1)), scale=2).shape
        (8, 8, 1)
        >>> image_grid(np.ones((3, 2, 2, 1)), padding=1).shape
        (5, 5, 1)
    """
    images = np.asarray(images, "float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            "Expected images shaped (n, height, width[, channels]). "
            f"Received shape {images.shape}"
        )
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    n, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((rows * columns, cell_h, cell_w, channels), 0.5, "float32")
    grid[:, :height, :width] = 0.0
    grid[:n, :height, :width] = images
    grid = grid.reshape(rows, columns, cell_h, cell_w, channels)
    grid = grid.transpose(0, 2, 1, 3, 4).reshape(
        rows * cell_h, columns * cell_w, channels
    )
    grid = grid[: rows * cell_h - padding, : columns * cell_w - padding]
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def save_png(grid, path):
    """Writes a grid in [0, 1] (`(h, w, 1)` or `(h, w, 3)`) as an 8-bit PNG."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "Writing PNG files needs Pillow: pip install pillow"
        ) from error
    pixels = np.round(np.asarray(grid) * 255.0).astype("uint8")
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    Image.fromarray(pixels).save(path)
    return path


class ImageSampleLogger(SummaryWriterCallback):
    """Every N epochs, writes a grid of samples from `model.generate`.

    Works with any model that has a `generate(n, seed=...)` method
    (`VAE`, `GAN`, `ConditionalGAN`, `DiffusionModel`, ...). Conditional
    models (a `generate` that takes `labels` and a `num_classes`
    attribute) get `labels`, by default `i % num_classes` so that each
    row of a `num_classes`-column grid walks through the classes. The same
    `seed` every time shows how the same codes evolve during training.

    At the end of epochs `every_n_epochs, 2 * every_n_epochs, ...` the grid
    is written to TensorBoard as the image `tag` (step: the epoch number,
    1-based) and, with `png_dir`, to `png_dir/<tag>_epoch_<NNNN>.png`.
    `self.last_grid` holds the last grid, a float array in [0, 1].

    Args:
        log_dir: TensorBoard run directory.
        every_n_epochs: positive int.
        num_samples: positive int, images per grid.
        seed: int seed passed to `generate`.
        png_dir: optional directory for PNG files (created if missing).
        labels: optional class labels `(num_samples,)` for conditional
            models.
        columns: grid columns (default: `num_classes` for conditional
            models, else `ceil(sqrt(num_samples))`).
        scale: positive int, pixels per image pixel.
        padding: non-negative int, grey pixels between images.
        value_range: `(low, high)` of the generated values, mapped to
            black and white (`(-1.0, 1.0)` for tanh outputs).
        tag: name of the TensorBoard image and of the PNG files.

    Examples:

        >>> import keras, numpy as np, tempfile
        >>> class Gray(keras.Model):  # any model with `generate` will do
        ...     def generate(self, n, seed=None):
        ...         return np.full((n, 2, 2, 1), 0.5, "float32")
        >>> logger = ImageSampleLogger(tempfile.mkdtemp(), num_samples=4,
        ...                            png_dir=tempfile.mkdtemp(), scale=3)
        >>> logger.set_model(Gray())
        >>> logger.log(step=1).shape  # 2 x 2 images of 2 x 2 pixels, 1 apart
        (15, 15, 1)
    """

    def __init__(
        self,
        log_dir,
        every_n_epochs=1,
        num_samples=16,
        seed=0,
        png_dir=None,
        labels=None,
        columns=None,
        scale=4,
        padding=1,
        value_range=(0.0, 1.0),
        tag="samples",
    ):
        super().__init__(log_dir)
        positive_int("every_n_epochs", every_n_epochs)
        positive_int("num_samples", num_samples)
        positive_int("scale", scale)
        if (
            isinstance(padding, bool)
            or not isinstance(padding, int)
            or padding < 0
        ):
            raise ValueError(
                "Argument `padding` must be a non-negative integer. "
                f"Received: padding={padding!r}"
            )
        if columns is not None:
            positive_int("columns", columns)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(
                f"Argument `seed` must be an integer. Received: seed={seed!r}"
            )
        if labels is not None and len(labels) != num_samples:
            raise ValueError(
                "Argument `labels` must hold `num_samples` labels. "
                f"Received: {len(labels)} labels, num_samples={num_samples}"
            )
        if (
            not isinstance(value_range, (list, tuple))
            or len(value_range) != 2
            or not value_range[0] < value_range[1]
        ):
            raise ValueError(
                "Argument `value_range` must be (low, high) with low < high. "
                f"Received: value_range={value_range!r}"
            )
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.seed = seed
        self.png_dir = None if png_dir is None else str(png_dir)
        self.labels = labels
        self.columns = columns
        self.scale = scale
        self.padding = padding
        self.value_range = tuple(value_range)
        self.tag = tag
        self.last_grid = None

    def _generate_kwargs(self):
        generate = getattr(self.model, "generate", None)
        if not callable(generate):
            raise ValueError(
                "ImageSampleLogger needs a model with a `generate(n, seed)` "
                f"method. Received: {type(self.model).__name__}"
            )
        kwargs = {"seed": self.seed}
        num_classes = getattr(self.model, "num_classes", None)
        takes_labels = "labels" in inspect.signature(generate).parameters
        if self.labels is not None:
            kwargs["labels"] = np.asarray(self.labels, "int32")
        elif takes_labels and num_classes:
            kwargs["labels"] = np.arange(self.num_samples) % num_classes
        return generate, kwargs, num_classes if takes_labels else None

    def log(self, step):
        """Generates, writes and returns the grid of samples at `step`."""
        generate, kwargs, num_classes = self._generate_kwargs()
        images = np.asarray(generate(self.num_samples, **kwargs))
        columns = self.columns or (
            min(num_classes, self.num_samples) if num_classes else None
        )
        grid = image_grid(
            images, columns, self.scale, self.value_range, self.padding
        )
        with self.writer.as_default(step=step):
            self.summary.image(self.tag, grid[None])
        if self.png_dir is not None:
            os.makedirs(self.png_dir, exist_ok=True)
            name = f"{self.tag}_epoch_{step:04d}.png"
            save_png(grid, os.path.join(self.png_dir, name))
        self.last_grid = grid
        return grid

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.log(step=epoch + 1)
