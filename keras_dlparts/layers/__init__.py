"""keras_dlparts.layers: public names of this folder."""
