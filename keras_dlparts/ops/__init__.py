"""keras_dlparts.ops: public names of this folder."""
from keras_dlparts.ops.kl import gaussian_kl_divergence
