"""Sample grids from a generative model, to TensorBoard and PNG files.

Works on every backend; the images go to TensorBoard through
`tf.summary.image` (TensorFlow is imported when the first grid is written).
PNG files are written with Pillow (`pip install pillow`).
"""

import glob
import inspect
import math
import os

import numpy as np

from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import class_labels
from keras_dlparts._validation import interval
from keras_dlparts._validation import path
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import string
from keras_dlparts.callbacks._files import OwnedFiles
from keras_dlparts.callbacks._files import safe_file_name
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


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
    images = check_rank("images", np.asarray(images, "float32"), (3, 4))
    if images.ndim == 3:
        images = images[..., None]
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


def _pillow_image():
    """Pillow's `Image` module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "Writing PNG files needs Pillow: pip install pillow"
        ) from error
    return Image


def save_png(grid, path):
    """Writes a grid in [0, 1] (`(h, w, 1)` or `(h, w, 3)`) as an 8-bit PNG."""
    Image = _pillow_image()
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
    1-based) and, with `png_dir`, to `png_dir/<name>_epoch_<NNNN>.png`,
    where `<name>` is `tag` made a safe file name (every character outside
    `[A-Za-z0-9._-]`, path separators included, and every `..` become `_`:
    `"gan/samples"` gives `gan_samples_epoch_0001.png`), so the PNG files
    always stay inside `png_dir`. `self.last_grid` holds the last grid, a
    float array in [0, 1].

    Like Keras's `TensorBoard` callback, it never replaces a file it did
    not write: when training starts, a PNG of the same name already in
    `png_dir` (from an earlier run) raises a `FileExistsError`, unless
    `overwrite=True`. PNGs it wrote itself (in an earlier `fit` with the
    same callback) are replaced. The model's `generate` method and the
    `labels` (against the model's `num_classes`) are also checked then.

    Args:
        log_dir: TensorBoard run directory.
        every_n_epochs: positive int.
        num_samples: positive int, images per grid.
        seed: int seed passed to `generate`.
        png_dir: optional directory for PNG files (created if missing).
        labels: optional integer class labels `(num_samples,)`, each in
            `[0, num_classes)`, for conditional models.
        columns: grid columns (default: `num_classes` for conditional
            models, else `ceil(sqrt(num_samples))`).
        scale: positive int, pixels per image pixel.
        padding: non-negative int, grey pixels between images.
        value_range: `(low, high)` of the generated values, mapped to
            black and white (`(-1.0, 1.0)` for tanh outputs).
        tag: name of the TensorBoard image (it may hold `/`) and of the
            PNG files.
        overwrite: bool, whether PNG files of the same name that this
            callback did not write may be replaced.

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
        overwrite=False,
    ):
        super().__init__(log_dir)
        self.every_n_epochs = positive_int("every_n_epochs", every_n_epochs)
        self.num_samples = positive_int("num_samples", num_samples)
        self.seed = positive_int("seed", seed, minimum=0)
        self.png_dir = path("png_dir", png_dir, allow_none=True)
        self.labels = (
            None
            if labels is None
            else class_labels("labels", labels, length=self.num_samples)
        )
        self.columns = (
            None if columns is None else positive_int("columns", columns)
        )
        self.scale = positive_int("scale", scale)
        self.padding = positive_int("padding", padding, minimum=0)
        self.value_range = interval("value_range", value_range)
        self.tag = string("tag", tag)
        self.overwrite = boolean("overwrite", overwrite)
        self._files = OwnedFiles(type(self).__name__, self.overwrite, "png_dir")
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
            if num_classes and max(self.labels) >= num_classes:
                raise ValueError(
                    f"Argument `labels` must be < num_classes={num_classes} of "
                    f"{self.model.name!r}. "
                    f"Received: labels={self.labels.tolist()!r}"
                )
            kwargs["labels"] = self.labels.astype("int32")
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
            save_png(grid, self._files.claim(self.png_path(step)))
        self.last_grid = grid
        return grid

    def png_path(self, step):
        """`png_dir/<tag>_epoch_<NNNN>.png`, the tag made a safe file name."""
        name = f"{safe_file_name(self.tag)}_epoch_{step:04d}.png"
        return os.path.join(self.png_dir, name)

    def on_train_begin(self, logs=None):
        # Every mistake that would stop `fit` at the first epoch end, now.
        self._generate_kwargs()
        if self.png_dir is not None:
            _pillow_image()
            pattern = f"{safe_file_name(self.tag)}_epoch_*.png"
            self._files.check(
                sorted(glob.glob(os.path.join(self.png_dir, pattern)))
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.log(step=epoch + 1)
