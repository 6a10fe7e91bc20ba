"""keras_dlparts.tuning: public names of this folder."""
