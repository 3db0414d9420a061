"""The one place families import the engine from (its public API, issue 3)."""

from __future__ import annotations

from grader.engine import ACTIVATIONS
from grader.engine import MLP
from grader.engine import RNN
from grader.engine import SGD
from grader.engine import Adam
from grader.engine import Momentum
from grader.engine import RMSprop
from grader.engine import conv1d
from grader.engine import conv1d_backward
from grader.engine.trace import fmt_array

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "RNN",
    "SGD",
    "Adam",
    "Momentum",
    "RMSprop",
    "conv1d",
    "conv1d_backward",
    "fmt_array",
]
