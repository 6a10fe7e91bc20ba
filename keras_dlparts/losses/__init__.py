"""keras_dlparts.losses: public names of this folder."""

from keras_dlparts.losses.clip import CLIPLoss
from keras_dlparts.losses.contrastive import ContrastiveLoss
from keras_dlparts.losses.crf import CRFLoss
from keras_dlparts.losses.gan import GANDiscriminatorLoss
from keras_dlparts.losses.gan import GANGeneratorLoss
from keras_dlparts.losses.multi_similarity import MultiSimilarityLoss
from keras_dlparts.losses.npairs import NPairsLoss
from keras_dlparts.losses.ntxent import NTXentLoss
from keras_dlparts.losses.perceptual import PerceptualLoss
from keras_dlparts.losses.robust import RobustLoss
from keras_dlparts.losses.supervised_contrastive import (
    SupervisedContrastiveLoss,
)
from keras_dlparts.losses.triplet import TripletLoss
