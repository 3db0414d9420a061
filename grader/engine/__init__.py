"""grader.engine: the reference backpropagation engine, verified against PyTorch autograd.

Pure NumPy (plus SymPy for the symbolic twin); it imports nothing else of grader and neither
Flask nor SQLAlchemy. Everything is float64. Math names (W, X, dW = dL/dW) are used on purpose.

API
===

Networks::

    import numpy as np
    from grader.engine import MLP, SGD, Momentum, RMSprop, Adam, RNN
    from grader.engine import conv1d, conv1d_backward, conv2d, conv2d_backward, gradcheck

    net = MLP([2, 3, 1], activations=["sigmoid", "linear"], loss="sse",
              rng=np.random.default_rng(0))
    net.weights[l]      # ndarray (sizes[l+1], sizes[l]); net.biases[l]: (sizes[l+1],)
    net.weights[0] = [[0.5, -0.2], ...]   # assignment is validated and stored as float64
    Y = net.forward(X)                    # X (batch, sizes[0]) -> (batch, sizes[-1])
    loss, grads = net.loss_and_gradients(X, T)   # grads.weights[l], grads.biases[l]
    bp = net.backprop(X, T)               # + zs, activations, deltas (matrix-form exercises)
    Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8).step(net, grads)   # in place

`MLP(..., weights=[...], biases=[...], bias=False)` builds a net from textbook numbers
(biases default to zero when weights are given; `bias=False` keeps them at zero with zero
gradients). A single example may be passed as 1-D x, t. `net.loss_value(X, T)`,
`net.parameters()` (W0, b0, W1, b1, ... in place), `net.copy()`.

Activations by name (`grader.engine.activations`): linear, sigmoid, tanh, relu, softplus,
leaky_relu (slope 0.01), softmax. relu'(0) = 0 as in PyTorch. Overflow-safe for any finite z.

Losses by name (`grader.engine.losses`), on batches (B rows, N elements):

- sse: sum over batch and outputs of (y - t)^2, the "sum of squared residuals";
- half_sse: one half of that (the classic delta rule, dL/dy = y - t);
- mse: the mean over all N elements;
- cross_entropy: -1/B sum t log softmax(z) on the last layer's pre-activations z (one-hot
  targets; last activation softmax or linear); dL/dz = (p - t)/B;
- binary_cross_entropy: mean over all elements of -[t log s + (1-t) log(1-s)], s = sigmoid(z)
  (last activation sigmoid or linear), computed as softplus(z) - t z; dL/dz = (s - t)/N.

Optimizers (`grader.engine.optimizers`), the update rules of torch.optim: `SGD(lr)`,
`Momentum(lr, momentum)` (torch SGD with momentum), `RMSprop(lr, alpha, eps)`,
`Adam(lr, beta1, beta2, eps)` with bias correction. State lives in the optimizer
(`Momentum.velocities`, `RMSprop.square_avg`, `Adam.m`, `Adam.v`, `Adam.t`); `step(model,
grads)` takes an MLP/RNN with its gradients, or lists of arrays, or one array.

RNN::

    rnn = RNN(n_in, n_hidden, n_out, rng=np.random.default_rng(0))   # W_xh W_hh b_h W_hy b_y
    loss, grads = rnn.loss_and_gradients(xs, ts)   # xs (steps, n_in), ts (steps, n_out)
    grads["W_hh"]                                   # BPTT, loss = sse over all steps

h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) from h_0 = 0, y_t = W_hy h_t + b_y. `rnn.bptt()` keeps
every intermediate (dh_t/dh_{t-1} among them, for vanishing and exploding gradients);
`grader.exercises.solutions.trace_rnn` writes it out for worked solutions.

Convolution (`grader.engine.conv`): valid cross-correlation as in torch.nn.functional.
`conv1d(x, w)` for x (L,), w (K,) (or channels: x (C, L) / (N, C, L), w (O, C, K));
`conv1d_backward(x, w, grad_out) -> (dx, dw)`; `stride=` and `padding=` keywords.
`conv2d` / `conv2d_backward` likewise for x (H, W), w (KH, KW) or channels first.

Pooling (`grader.engine.pooling`): `max_pool2d(x, kernel, stride=None)`, `avg_pool2d`, and
their `..._backward(x, grad_out, kernel, stride)` (x (H, W), (C, H, W) or (N, C, H, W); stride
defaults to the kernel). Batch norm (`grader.engine.batchnorm`), training mode on x (N, D):
`batchnorm_forward(x, gamma, beta, eps=1e-5)` (.y .mean .var .x_hat) and
`batchnorm_backward(x, gamma, grad_out)` (.dx .dgamma .dbeta). One LSTM step
(`grader.engine.lstm`, torch.nn.LSTMCell's gate order i, f, g, o): `lstm_cell(x, h, c, W_ih,
W_hh, b) -> (h', c')`, `lstm_cell_steps(...)` (every gate) and `lstm_cell_backward(...,
dh_new, dc_new=None)` (.x .h .c .W_ih .W_hh .b .gates); one GRU step (`grader.engine.gru`,
torch.nn.GRUCell's r, z, n): `gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)` and
`gru_cell_backward(..., dh_new)`. Inverted dropout with a given 0/1 mask
(`grader.engine.dropout`): `dropout(x, mask, p)`, `dropout_backward(grad_out, mask, p)`.
`SGD(lr, weight_decay)` adds torch's L2 decay.

Gradient checking (`grader.engine.gradcheck`)::

    result = gradcheck(lambda: net.loss_value(X, T), net.parameters(), grads.parameters())
    assert result, result.message          # central differences; .numerical, .max_abs_error

Traces live in the exercise layer (`grader.exercises.solutions`), not here: the engine
returns data, and `trace_mlp(net, x, t)` on ONE example (x (n_in,), t (n_out,)) returns a
`Trace` with ordered `given`, `forward` and `backward` lists of `Step`s. Each step
has `name` (1-based, paper style: "z^{(1)}_1", "a^{(1)}_1", "L", "dL/da^{(2)}_1",
"da^{(1)}_1/dz^{(1)}_1", "delta^{(1)}_1", "dL/dw^{(2)}_{11}", "dL/db^{(1)}_1"), `symbol`
(LaTeX), `formula` (LaTeX "symbol = rule", e.g. the local derivative
"... = \\sigma'(z^{(1)}_{1}) = a^{(1)}_{1}(1 - a^{(1)}_{1})" or a weight gradient's chain-rule
product dL/da . da/dz . dz/dw), `substituted` (the rule with the numbers put in, ending
"= value"), `value` (float, or ndarray for a softmax Jacobian), `kind`, `layer`, `index` and
`depends`. `trace[name]`, `trace.select(kind=..., layer=...)`, `trace.to_markdown()`.
`trace_rnn(rnn, xs, ts)` does the same through time.

Symbolic twin (`grader.engine.symbolic`): SymPy function classes `sigmoid`, `softplus`,
`relu`, `leaky_relu` that know their derivatives and `rewrite(sympy.exp)`, and
`symbolic_mlp(sizes, activations, loss, names=...) -> SymbolicNet` with `.symbols`,
`.output`, `.loss`, `.gradient("w1")` (or `form="chain"`), `.expand()`, `.evaluate(values)`
(equal to the numeric engine), `.to_mlp(values)`, `.trace_names`; `checker_string(expr)`.
Import it as `from grader.engine import symbolic` (it pulls in SymPy).

Bad input (wrong shapes, unknown names, NaN or inf) raises ValueError whose message starts
with the argument's name and says what was expected.
"""

from grader.engine.activations import ACTIVATIONS
from grader.engine.activations import get_activation
from grader.engine.batchnorm import BatchNormForward
from grader.engine.batchnorm import BatchNormGradients
from grader.engine.batchnorm import batchnorm_backward
from grader.engine.batchnorm import batchnorm_forward
from grader.engine.conv import conv1d
from grader.engine.conv import conv1d_backward
from grader.engine.conv import conv2d
from grader.engine.conv import conv2d_backward
from grader.engine.dropout import dropout
from grader.engine.dropout import dropout_backward
from grader.engine.gradcheck import GradcheckResult
from grader.engine.gradcheck import gradcheck
from grader.engine.gradcheck import numerical_gradient
from grader.engine.gru import GRUGradients
from grader.engine.gru import gru_cell
from grader.engine.gru import gru_cell_backward
from grader.engine.losses import LOSSES
from grader.engine.losses import get_loss
from grader.engine.losses import one_hot
from grader.engine.lstm import LSTMGradients
from grader.engine.lstm import LSTMStep
from grader.engine.lstm import lstm_cell
from grader.engine.lstm import lstm_cell_backward
from grader.engine.lstm import lstm_cell_steps
from grader.engine.mlp import MLP
from grader.engine.mlp import Backprop
from grader.engine.mlp import Gradients
from grader.engine.optimizers import SGD
from grader.engine.optimizers import Adam
from grader.engine.optimizers import Momentum
from grader.engine.optimizers import Optimizer
from grader.engine.optimizers import RMSprop
from grader.engine.pooling import avg_pool2d
from grader.engine.pooling import avg_pool2d_backward
from grader.engine.pooling import max_pool2d
from grader.engine.pooling import max_pool2d_backward
from grader.engine.rnn import RNN
from grader.engine.rnn import RNNBackprop

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "RNN",
    "SGD",
    "Adam",
    "Backprop",
    "BatchNormForward",
    "BatchNormGradients",
    "GRUGradients",
    "GradcheckResult",
    "Gradients",
    "LSTMGradients",
    "LSTMStep",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "RNNBackprop",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batchnorm_backward",
    "batchnorm_forward",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "dropout",
    "dropout_backward",
    "get_activation",
    "get_loss",
    "gradcheck",
    "gru_cell",
    "gru_cell_backward",
    "lstm_cell",
    "lstm_cell_backward",
    "lstm_cell_steps",
    "max_pool2d",
    "max_pool2d_backward",
    "numerical_gradient",
    "one_hot",
]
