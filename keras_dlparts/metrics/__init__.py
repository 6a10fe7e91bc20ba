"""keras_dlparts.metrics: public names of this folder."""
