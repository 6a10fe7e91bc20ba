"""keras_dlparts.data: public names of this folder."""
