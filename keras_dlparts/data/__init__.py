"""keras_dlparts.data: input pipelines and the small datasets shipped."""

from keras_dlparts.data.digits import load_digits
