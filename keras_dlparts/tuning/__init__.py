"""keras_dlparts.tuning: public names of this folder."""

from keras_dlparts.tuning.autoencoders import AutoencoderHyperModel
from keras_dlparts.tuning.autoencoders import VAEHyperModel
from keras_dlparts.tuning.autoencoders import build_dense_vae
from keras_dlparts.tuning.classifiers import LeNet5HyperModel
from keras_dlparts.tuning.classifiers import MLPHyperModel
from keras_dlparts.tuning.classifiers import ResNetHyperModel
from keras_dlparts.tuning.classifiers import TransformerClassifierHyperModel
from keras_dlparts.tuning.classifiers import VGGHyperModel
from keras_dlparts.tuning.classifiers import ViTHyperModel
from keras_dlparts.tuning.classifiers import training_search_space
from keras_dlparts.tuning.hypermodel import BuilderHyperModel
from keras_dlparts.tuning.search_space import Boolean
from keras_dlparts.tuning.search_space import Choice
from keras_dlparts.tuning.search_space import Float
from keras_dlparts.tuning.search_space import Int
from keras_dlparts.tuning.search_space import merge_search_space
from keras_dlparts.tuning.search_space import sample
from keras_dlparts.tuning.search_space import validate_search_space
from keras_dlparts.tuning.training import OPTIMIZERS
from keras_dlparts.tuning.training import TRAINING_KEYS
from keras_dlparts.tuning.training import make_optimizer
