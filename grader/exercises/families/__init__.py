"""The registry of built-in families (trusted Python that uses the engine).

A spec names a family by its key here; no instructor code is ever loaded.
"""

from __future__ import annotations

from grader.exercises.families.activation_derivatives import ActivationDerivatives
from grader.exercises.families.base import Family
from grader.exercises.families.batchnorm_grad import BatchNormGrad
from grader.exercises.families.bptt import BPTT
from grader.exercises.families.chain import ChainNumeric
from grader.exercises.families.chain_symbolic import ChainSymbolic
from grader.exercises.families.comp_graph import ComputationalGraph
from grader.exercises.families.concept_banks import ConceptBank
from grader.exercises.families.concepts import Concepts
from grader.exercises.families.conv1d_grad import Conv1dGrad
from grader.exercises.families.conv2d_grad import Conv2dGrad
from grader.exercises.families.delta_rule import DeltaRule
from grader.exercises.families.depth_gradients import DepthGradients
from grader.exercises.families.dropout_grad import DropoutGrad
from grader.exercises.families.find_bug import FindTheBug
from grader.exercises.families.gradient_check import GradientCheck
from grader.exercises.families.lr_behaviour import LearningRate
from grader.exercises.families.lstm_step import LSTMStep
from grader.exercises.families.matrix_deltas import MatrixDeltas
from grader.exercises.families.minibatch import MiniBatch
from grader.exercises.families.mlp_step import MLPTrainingStep
from grader.exercises.families.optimizer_step import OptimizerStep
from grader.exercises.families.pooling_grad import PoolingGrad
from grader.exercises.families.shared_weight import SharedWeight
from grader.exercises.families.sigmoid_bce import SigmoidBCE
from grader.exercises.families.softmax_hidden import SoftmaxHidden
from grader.exercises.families.softmax_xent import SoftmaxCrossEntropy
from grader.exercises.families.softplus_ssr import SoftplusSSR
from grader.exercises.families.weight_decay import WeightDecay

_ALL: list[Family] = [
    DeltaRule(),
    ChainNumeric(),
    ChainSymbolic(),
    SoftplusSSR(),
    ActivationDerivatives(),
    MatrixDeltas(),
    SoftmaxCrossEntropy(),
    OptimizerStep(),
    MiniBatch(),
    BPTT(),
    Conv1dGrad(),
    SharedWeight(),
    LearningRate(),
    Concepts(),
    MLPTrainingStep(),
    ComputationalGraph(),
    SigmoidBCE(),
    SoftmaxHidden(),
    GradientCheck(),
    FindTheBug(),
    DepthGradients(),
    Conv2dGrad(),
    PoolingGrad(),
    WeightDecay(),
    DropoutGrad(),
    BatchNormGrad(),
    LSTMStep(),
    ConceptBank(),
]

FAMILIES: dict[str, Family] = {f.name: f for f in _ALL}

__all__ = ["FAMILIES", "Family"]
