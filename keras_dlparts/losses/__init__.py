"""keras_dlparts.losses: public names of this folder."""
from keras_dlparts.losses.gan import GANDiscriminatorLoss
from keras_dlparts.losses.gan import GANGeneratorLoss
