"""Worked solutions: the engine's numbers typeset as LaTeX steps (``Trace``).

Usage::

    from grader.exercises.solutions import trace_mlp, trace_rnn
    trace = trace_mlp(net, x, t)      # one example through an MLP
    trace.to_markdown()
"""

from grader.exercises.solutions.mlp_trace import trace_mlp
from grader.exercises.solutions.rnn_trace import trace_rnn
from grader.exercises.solutions.trace import Step
from grader.exercises.solutions.trace import Trace

__all__ = ["Step", "Trace", "trace_mlp", "trace_rnn"]
