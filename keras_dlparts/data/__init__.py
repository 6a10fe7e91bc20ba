"""keras_dlparts.data: input pipelines and the small datasets shipped."""

from keras_dlparts.data.arrays import make_dataset
from keras_dlparts.data.class_balanced import class_balanced_batches
from keras_dlparts.data.digits import CAPTION_TEMPLATES
from keras_dlparts.data.digits import DIGIT_NAMES
from keras_dlparts.data.digits import digit_captions
from keras_dlparts.data.digits import load_digits
from keras_dlparts.data.text import Vocabulary
from keras_dlparts.data.text import cbow_examples
from keras_dlparts.data.text import skipgram_pairs
from keras_dlparts.data.text import standardize
from keras_dlparts.data.tfds import load_tfds
