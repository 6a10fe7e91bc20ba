"""keras_dlparts.models: public names of this folder."""
