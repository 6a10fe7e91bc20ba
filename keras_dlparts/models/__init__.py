"""keras_dlparts.models: public names of this folder."""
from keras_dlparts.models.noise_schedule import NoiseSchedule
