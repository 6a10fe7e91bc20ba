"""keras_dlparts.metrics: public names of this folder."""

from keras_dlparts.metrics.bleu import BLEU
from keras_dlparts.metrics.cohen_kappa import CohenKappa
from keras_dlparts.metrics.kendalls_tau import KendallsTau
from keras_dlparts.metrics.matthews_correlation import (
    MatthewsCorrelationCoefficient,
)
from keras_dlparts.metrics.psnr import PSNR
from keras_dlparts.metrics.rouge import ROUGE
from keras_dlparts.metrics.ssim import SSIM
