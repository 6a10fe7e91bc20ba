"""keras_dlparts.models: public names of this folder."""
from keras_dlparts.models.noise_schedule import NoiseSchedule
from keras_dlparts.models.autoencoder import build_autoencoder
from keras_dlparts.models.anomaly import AnomalyDetector
from keras_dlparts.models.vae import VAE
from keras_dlparts.models.transformer_classifier import build_transformer_classifier
from keras_dlparts.models.mlp import build_mlp
from keras_dlparts.models.rbf_network import build_rbf_network
from keras_dlparts.models.perceptron import PerceptronClassifier
from keras_dlparts.models.som import SOM
from keras_dlparts.models.rbm import RBM
from keras_dlparts.models.gan import GAN
from keras_dlparts.models.gan import ConditionalGAN
from keras_dlparts.models.dcgan import build_dcgan_generator
from keras_dlparts.models.dcgan import build_dcgan_discriminator
