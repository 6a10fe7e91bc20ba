"""keras_dlparts.losses: public names of this folder."""
