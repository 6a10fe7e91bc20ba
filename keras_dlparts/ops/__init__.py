"""keras_dlparts.ops: public names of this folder."""

from keras_dlparts.ops.attention import scaled_dot_product_attention
from keras_dlparts.ops.crf import crf_log_likelihood
from keras_dlparts.ops.crf import viterbi_decode
from keras_dlparts.ops.distance import pairwise_squared_distance
from keras_dlparts.ops.frechet import frechet_distance
from keras_dlparts.ops.image_quality import psnr
from keras_dlparts.ops.image_quality import ssim
from keras_dlparts.ops.kl import gaussian_kl_divergence
from keras_dlparts.ops.memory_efficient_attention import (
    memory_efficient_attention,
)
from keras_dlparts.ops.positional import sinusoidal_positional_encoding
from keras_dlparts.ops.rbf import rbf_kernel
from keras_dlparts.ops.similarity import cosine_similarity
