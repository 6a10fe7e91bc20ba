"""keras_dlparts.ops: public names of this folder."""
