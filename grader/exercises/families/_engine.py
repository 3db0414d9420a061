"""The one place families import the engine from (its public API, issue 3)."""

from __future__ import annotations

from grader.engine import ACTIVATIONS
from grader.engine import MLP
from grader.engine import RNN
from grader.engine import SGD
from grader.engine import Adam
from grader.engine import Momentum
from grader.engine import RMSprop
from grader.engine import avg_pool2d
from grader.engine import avg_pool2d_backward
from grader.engine import batchnorm_backward
from grader.engine import batchnorm_forward
from grader.engine import conv1d
from grader.engine import conv1d_backward
from grader.engine import conv2d
from grader.engine import conv2d_backward
from grader.engine import dropout
from grader.engine import dropout_backward
from grader.engine import lstm_cell_backward
from grader.engine import lstm_cell_steps
from grader.engine import max_pool2d
from grader.engine import max_pool2d_backward
from grader.engine import numerical_gradient
from grader.exercises.solutions.trace import fmt_array

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "RNN",
    "SGD",
    "Adam",
    "Momentum",
    "RMSprop",
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
    "fmt_array",
    "lstm_cell_backward",
    "lstm_cell_steps",
    "max_pool2d",
    "max_pool2d_backward",
    "numerical_gradient",
]
