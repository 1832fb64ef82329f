"""Differentiable functions, as torch.nn.functional (the C++ ops themselves)."""
from .._C.functional import *  # noqa: F401,F403
from .._C.functional import (  # noqa: F401
    linear, conv1d, conv2d, max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, layer_norm, batch_norm, group_norm,
    rms_norm, dropout, embedding, one_hot, pad, softmax, log_softmax, relu, gelu, gelu_tanh, silu, sigmoid, tanh,
    softplus, leaky_relu, elu, glu, cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits, ctc_loss,
    scaled_dot_product_attention, unfold,
)
