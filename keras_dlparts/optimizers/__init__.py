"""keras_dlparts.optimizers: public names of this folder."""
