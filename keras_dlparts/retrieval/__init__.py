"""keras_dlparts.retrieval: public names of this folder."""

from keras_dlparts.retrieval.classifier import NearestNeighborClassifier
from keras_dlparts.retrieval.evaluation import evaluate_retrieval
from keras_dlparts.retrieval.index import NearestNeighborIndex
from keras_dlparts.retrieval.search import top_k_neighbors
