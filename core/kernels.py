"""The Numba kernels of tunelab's models, by their public names, and which Hessian-vector product goes with which.

Every model is trained on one loss-and-gradient kernel that follows the contract of tunelab.optimizers,

    loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L,   L = (1/m) sum_{i in rows} loss_i(theta) + (alpha/2) |W|^2,

writing dL/dtheta into grad (the intercepts and biases are not penalised). A loss-only kernel
`*_loss(theta, X, Y, rows, alpha, spec) -> L` serves line searches and validation; where the Hessian is
written out, `*_hvp(theta, X, Y, rows, alpha, spec, v, out)` writes H v into out, H = d^2 L / d theta^2
(what implicit differentiation of the fitted optimum needs, e.g. tunelab.searchers.gradient).

Linear models (tunelab.core._linear_kernels; spec = [] or [fit_intercept]; theta = W (d, k) row-major, then b (k,)):
    squared_*    least squares, 1/2 |x W + b - y|^2            (LinearRegression)
    logistic_*   binary log-loss of sigmoid(x w + b), Y in {0, 1} (LogisticRegression, two classes)
    softmax_*    cross-entropy of softmax(x W + b), Y one-hot     (LogisticRegression, K > 2 classes)
Multi-layer perceptrons (tunelab.core._mlp_kernels; spec = [activation, output, n_0, ..., n_L], with the
activation code ACTIVATIONS[name] and the output code OUTPUT_IDENTITY, OUTPUT_SOFTMAX or OUTPUT_SIGMOID):
    mlp_loss_grad, mlp_loss, and mlp_forward(theta, X, spec) -> outputs (n, n_L) (numpy code, for prediction);
    n_params(spec) = len(theta). gemm_nt(P, Q, C, beta, CT): C = P Q^T (beta 0) or C += P Q^T (beta 1), the
    register-blocked matrix product every MLP layer runs on (CT, unless empty (0, 0), receives C^T).
    The MLP has no exact Hessian-vector product: `hessian_vector_product(mlp_loss_grad)` is None.
Per-row SGD (tunelab.core._linear_sgd): squared_loss_grad and logistic_loss_grad are registered with
tunelab.optimizers (`register_epoch`) with an epoch that does the work of a row in one pass, used by SGD,
momentum and Adam for batches of at most MAX_BATCH rows (and MAX_BATCH_VALUES values) without gradient
clipping; the compiled generic epoch stays the reference, and is used elsewhere.
Sources: Hastie, Tibshirani & Friedman, The Elements of Statistical Learning, sections 3.4 and 4.4; Bishop,
Pattern Recognition and Machine Learning, section 4.3; Goodfellow, Bengio & Courville, Deep Learning, 6.5.
"""

from types import MappingProxyType

from tunelab.core import _compile_notice
from tunelab.core._linear_sgd import LINK_LOGISTIC, LINK_SQUARED, MAX_BATCH, MAX_BATCH_VALUES, RowEpoch
from tunelab.core._linear_kernels import (
    logistic_hvp,
    logistic_loss,
    logistic_loss_grad,
    softmax_hvp,
    softmax_loss,
    softmax_loss_grad,
    squared_hvp,
    squared_loss,
    squared_loss_grad,
)
from tunelab.core._mlp_kernels import (
    ACTIVATION_RELU,
    ACTIVATION_SIGMOID,
    ACTIVATION_TANH,
    ACTIVATIONS,
    OUTPUT_IDENTITY,
    OUTPUT_SIGMOID,
    OUTPUT_SOFTMAX,
    gemm_nt,
    mlp_forward,
    mlp_loss,
    mlp_loss_grad,
    n_params,
)
from tunelab.optimizers import register_epoch

# loss-and-gradient kernel -> its exact Hessian-vector product kernel
HESSIAN_VECTOR_PRODUCTS = MappingProxyType({
    squared_loss_grad: squared_hvp,
    logistic_loss_grad: logistic_hvp,
    softmax_loss_grad: softmax_hvp,
})


register_epoch(squared_loss_grad, RowEpoch(LINK_SQUARED).choose)
register_epoch(logistic_loss_grad, RowEpoch(LINK_LOGISTIC).choose)


def hessian_vector_product(loss_grad):
    """The exact Hessian-vector product kernel hvp(theta, X, Y, rows, alpha, spec, v, out) of the
    loss-and-gradient kernel `loss_grad`, or None when it has none (the MLP: take finite differences
    of its gradient instead)."""
    return HESSIAN_VECTOR_PRODUCTS.get(loss_grad)


# (a part of a compiled function's "module.qualname", its family, the seconds its cold compile takes here)
COMPILE_FAMILIES = _compile_notice.FAMILIES

__all__ = [
    "COMPILE_FAMILIES",
    "squared_loss_grad", "squared_loss", "squared_hvp",
    "logistic_loss_grad", "logistic_loss", "logistic_hvp",
    "softmax_loss_grad", "softmax_loss", "softmax_hvp",
    "mlp_loss_grad", "mlp_loss", "mlp_forward", "n_params",
    "ACTIVATIONS", "ACTIVATION_RELU", "ACTIVATION_TANH", "ACTIVATION_SIGMOID",
    "OUTPUT_IDENTITY", "OUTPUT_SOFTMAX", "OUTPUT_SIGMOID",
    "HESSIAN_VECTOR_PRODUCTS", "hessian_vector_product", "MAX_BATCH", "MAX_BATCH_VALUES",
]
