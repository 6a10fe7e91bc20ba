"""keras_dlparts.models: public names of this folder."""

from keras_dlparts.models.anomaly import AnomalyDetector
from keras_dlparts.models.autoencoder import build_autoencoder
from keras_dlparts.models.cnn import build_lenet5
from keras_dlparts.models.cnn import build_vgg
from keras_dlparts.models.cyclegan import CycleGAN
from keras_dlparts.models.dcgan import build_dcgan_discriminator
from keras_dlparts.models.dcgan import build_dcgan_generator
from keras_dlparts.models.densenet import build_densenet
from keras_dlparts.models.diffusion import DiffusionModel
from keras_dlparts.models.diffusion_unet import build_diffusion_unet
from keras_dlparts.models.digits_judge import digits_features
from keras_dlparts.models.digits_judge import digits_judge
from keras_dlparts.models.digits_judge import fd_digits
from keras_dlparts.models.digits_judge import mean_pairwise_distance
from keras_dlparts.models.digits_judge import per_class_fd_digits
from keras_dlparts.models.dual_encoder import DualEncoder
from keras_dlparts.models.gan import GAN
from keras_dlparts.models.gan import ConditionalGAN
from keras_dlparts.models.hierarchical_vae import HierarchicalVAE
from keras_dlparts.models.layout import transformer_layout_map
from keras_dlparts.models.mlp import build_mlp
from keras_dlparts.models.noise_schedule import NoiseSchedule
from keras_dlparts.models.perceptron import PerceptronClassifier
from keras_dlparts.models.q_network import build_q_network
from keras_dlparts.models.rbf_network import build_rbf_network
from keras_dlparts.models.rbm import RBM
from keras_dlparts.models.recurrent import build_lstm_language_model
from keras_dlparts.models.resnet import build_resnet
from keras_dlparts.models.seq2seq import build_seq2seq_transformer
from keras_dlparts.models.seq2seq import greedy_decode
from keras_dlparts.models.siamese import SiameseNetwork
from keras_dlparts.models.siamese import few_shot_accuracy
from keras_dlparts.models.som import SOM
from keras_dlparts.models.srgan import SRGAN
from keras_dlparts.models.srgan import build_srgan_discriminator
from keras_dlparts.models.srgan import build_srgan_generator
from keras_dlparts.models.timeseries import build_timeseries_cnn
from keras_dlparts.models.transformer_classifier import (
    build_transformer_classifier,
)
from keras_dlparts.models.unet import build_unet
from keras_dlparts.models.vae import VAE
from keras_dlparts.models.vit import build_vit
from keras_dlparts.models.word2vec import Word2Vec
