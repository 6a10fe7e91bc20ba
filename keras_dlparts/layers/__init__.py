"""keras_dlparts.layers: public names of this folder."""
from keras_dlparts.layers.timestep import TimestepEmbedding
from keras_dlparts.layers.sampler import ReparameterizationSampler
from keras_dlparts.layers.lstm import LSTMCell
from keras_dlparts.layers.noise import SaltAndPepperNoise
from keras_dlparts.layers.token_augment import RandomTokenDeletion
from keras_dlparts.layers.token_augment import RandomTokenInsertion
from keras_dlparts.layers.token_augment import RandomTokenSwap
from keras_dlparts.layers.audio_augment import AddBackgroundNoise
from keras_dlparts.layers.audio_augment import RandomGain
from keras_dlparts.layers.audio_augment import RandomPitchShift
from keras_dlparts.layers.audio_augment import RandomTimeShift
from keras_dlparts.layers.audio_augment import RandomTimeStretch
from keras_dlparts.layers.attention import MultiHeadAttention
