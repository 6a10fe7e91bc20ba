"""NumPy references for convolutional layers (independent of Keras)."""

import math

import numpy as np


def conv2d(x, kernel, bias=None, strides=1, padding="same"):
    """2D convolution, channels last, with TensorFlow's "same" padding rule."""
    _, height, width, _ = x.shape
    k_h, k_w = kernel.shape[:2]
    if padding == "same":
        out_h, out_w = math.ceil(height / strides), math.ceil(width / strides)
        pad_h = max((out_h - 1) * strides + k_h - height, 0)
        pad_w = max((out_w - 1) * strides + k_w - width, 0)
        x = np.pad(
            x,
            [
                (0, 0),
                (pad_h // 2, pad_h - pad_h // 2),
                (pad_w // 2, pad_w - pad_w // 2),
                (0, 0),
            ],
        )
    else:
        out_h = (height - k_h) // strides + 1
        out_w = (width - k_w) // strides + 1
    out = np.zeros(x.shape[:1] + (out_h, out_w, kernel.shape[-1]))
    for i in range(k_h):
        for j in range(k_w):
            patch = x[
                :,
                i : i + strides * out_h : strides,
                j : j + strides * out_w : strides,
            ]
            out += patch @ kernel[i, j]
    return out if bias is None else out + bias


def batch_norm(x, gamma, beta, mean, var, epsilon):
    """Batch normalisation in inference mode."""
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def relu(x):
    return np.maximum(x, 0.0)


def average_pool(x, size=2):
    """Non-overlapping average pooling with "valid" padding."""
    b, h, w, c = x.shape
    h, w = h // size, w // size
    x = x[:, : h * size, : w * size].reshape(b, h, size, w, size, c)
    return x.mean(axis=(2, 4))
