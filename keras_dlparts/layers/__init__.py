"""keras_dlparts.layers: public names of this folder."""
from keras_dlparts.layers.timestep import TimestepEmbedding
from keras_dlparts.layers.sampler import ReparameterizationSampler
from keras_dlparts.layers.lstm import LSTMCell
