"""keras_dlparts.layers: public names of this folder."""
from keras_dlparts.layers.lstm import LSTMCell
from keras_dlparts.layers.sampler import ReparameterizationSampler
from keras_dlparts.layers.timestep import TimestepEmbedding
from keras_dlparts.layers.positional import LearnedPositionalEmbedding
from keras_dlparts.layers.positional import SinusoidalPositionalEncoding
from keras_dlparts.layers.positional import TokenAndPositionEmbedding
from keras_dlparts.layers.transformer import TransformerDecoderBlock
from keras_dlparts.layers.transformer import TransformerEncoderBlock
