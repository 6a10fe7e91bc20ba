"""keras_dlparts.callbacks: public names of this folder."""
