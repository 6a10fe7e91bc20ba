"""The ImageNet stem shared by the ResNet and DenseNet builders."""

import keras


def imagenet_stem(inputs, filters, use_bias=False):
    """Pad, 7x7/2 convolution, batch norm, ReLU, 3x3/2 max pooling.

    The layer names and sizes are those of `keras.applications.ResNet50`
    and `DenseNet121`, so that parameter counts and weights line up.
    """
    x = keras.layers.ZeroPadding2D(3, name="stem_pad")(inputs)
    x = keras.layers.Conv2D(
        filters, 7, strides=2, use_bias=use_bias, name="stem_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=1.001e-5, name="stem_bn")(x)
    x = keras.layers.Activation("relu", name="stem_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
