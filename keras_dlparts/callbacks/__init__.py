"""keras_dlparts.callbacks: public names of this folder."""

from keras_dlparts.callbacks.attention_maps import AttentionMapLogger
from keras_dlparts.callbacks.dead_units import DeadUnitMonitor
from keras_dlparts.callbacks.gradient_flow import GradientFlowMonitor
from keras_dlparts.callbacks.image_samples import ImageSampleLogger
from keras_dlparts.callbacks.latent_projector import LatentSpaceProjector
from keras_dlparts.callbacks.pruning import MagnitudePruning
from keras_dlparts.callbacks.retrieval_evaluator import RetrievalEvaluator
from keras_dlparts.callbacks.time_stopping import TimeStopping
