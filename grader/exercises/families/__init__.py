"""The built-in families (trusted Python that uses the engine), by key.

Each family module registers its class with
:func:`~grader.exercises.families.registry.register_family`; this package imports every
family module by name below (``tests/exercises/test_registry.py`` checks the list against
the files), so a new family is one module plus one name here. No instructor code is ever
loaded, and nothing is discovered by ``getattr`` or ``__import__``.
"""

from __future__ import annotations

from grader.exercises.families import activation_derivatives
from grader.exercises.families import batchnorm_grad
from grader.exercises.families import bptt_scalar
from grader.exercises.families import chain_rule_numeric
from grader.exercises.families import chain_rule_symbolic
from grader.exercises.families import computational_graph
from grader.exercises.families import concept_bank
from grader.exercises.families import concept_choice
from grader.exercises.families import conv1d_grad
from grader.exercises.families import conv2d_grad
from grader.exercises.families import delta_rule
from grader.exercises.families import depth_gradients
from grader.exercises.families import dropout_grad
from grader.exercises.families import find_the_bug
from grader.exercises.families import gradient_check
from grader.exercises.families import lr_behaviour
from grader.exercises.families import lstm_step
from grader.exercises.families import matrix_deltas
from grader.exercises.families import minibatch_average
from grader.exercises.families import mlp_training_step
from grader.exercises.families import optimizer_step
from grader.exercises.families import pooling_grad
from grader.exercises.families import shared_weight
from grader.exercises.families import sigmoid_bce
from grader.exercises.families import softmax_cross_entropy
from grader.exercises.families import softmax_hidden
from grader.exercises.families import softplus_ssr
from grader.exercises.families import weight_decay
from grader.exercises.families.base import Family
from grader.exercises.families.registry import FAMILIES
from grader.exercises.families.registry import register_family

#: the family modules, one per family: file name, class and key agree
FAMILY_MODULES = (
    activation_derivatives,
    batchnorm_grad,
    bptt_scalar,
    chain_rule_numeric,
    chain_rule_symbolic,
    computational_graph,
    concept_bank,
    concept_choice,
    conv1d_grad,
    conv2d_grad,
    delta_rule,
    depth_gradients,
    dropout_grad,
    find_the_bug,
    gradient_check,
    lr_behaviour,
    lstm_step,
    matrix_deltas,
    minibatch_average,
    mlp_training_step,
    optimizer_step,
    pooling_grad,
    shared_weight,
    sigmoid_bce,
    softmax_cross_entropy,
    softmax_hidden,
    softplus_ssr,
    weight_decay,
)

__all__ = ["FAMILIES", "FAMILY_MODULES", "Family", "register_family"]
