"""Concept banks of at least 10 questions per topic, and the overview quiz (issue 15).

The four topic banks extend the two questions each of ``concepts.BANKS``; ``overview`` is the
course overview's quiz: what backpropagation computes, why hidden layers need it, the chain
rule, the direction of gradient descent, the learning rate, vanishing gradients and mini-batch
versus full-batch training. Every wrong option carries its own code and a reason, and the
option order is drawn per variant (the ``concept_choice`` family's behaviour).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.concept_choice import BANKS as BASE_BANKS
from grader.exercises.families.concept_choice import ConceptChoice
from grader.exercises.families.concept_choice import Question
from grader.exercises.families.registry import register_family


def _q(stem: str, right: str, wrong: list[tuple[str, str, str]], why: str) -> Question:
    return (stem, [right], wrong, why)


EXTRA: dict[str, list[Question]] = {
    "chain_rule": [
        _q(
            "For $L = f(g(w))$, what is $dL/dw$?",
            "$f'(g(w))\\,g'(w)$",
            [
                ("no_inner", "$f'(g(w))$", "The inner function's derivative $g'(w)$ is a factor."),
                (
                    "composed_derivative",
                    "$f'(g'(w))$",
                    "Evaluate $f'$ at $g(w)$, then multiply by $g'(w)$.",
                ),
                (
                    "sum_rule",
                    "$f'(g(w)) + g'(w)$",
                    "Derivatives of a composition multiply; they do not add.",
                ),
            ],
            "The chain rule: the outer derivative at the inner value times the inner derivative.",
        ),
        _q(
            "In a backward pass, what does each node multiply the incoming gradient by?",
            "Its local derivative with respect to the input the gradient is sent to.",
            [
                (
                    "global",
                    "The derivative of the loss with respect to the node's output.",
                    "That is the incoming gradient itself; the node multiplies it by its own "
                    "local derivative.",
                ),
                (
                    "value",
                    "Its own forward value.",
                    "Only a multiply gate uses the OTHER input's value; in general the factor is "
                    "the local derivative.",
                ),
                (
                    "nothing",
                    "Nothing: gradients pass through nodes unchanged.",
                    "Only add gates pass gradients unchanged (local derivative 1).",
                ),
            ],
            "Upstream gradient × local derivative = downstream gradient, node by node.",
        ),
        _q(
            "An add gate $z = x + y$ receives $\\partial L/\\partial z = 3$. What does it send to "
            "$x$?",
            "3",
            [
                (
                    "halves",
                    "1.5",
                    "An add gate does not split the gradient: $\\partial z/\\partial x = 1$.",
                ),
                ("times_y", "$3y$", "That is what a multiply gate would send."),
                ("zero", "0", "x changes z one-for-one, so it receives the full gradient."),
            ],
            "Add gates distribute the gradient unchanged to every input.",
        ),
        _q(
            "A multiply gate $z = x y$ receives $\\partial L/\\partial z = g$. What does it send "
            "to $x$?",
            "$g\\,y$",
            [
                (
                    "own",
                    "$g\\,x$",
                    "$\\partial z/\\partial x = y$: each input gets the other input's value.",
                ),
                ("unchanged", "$g$", "Unchanged passing is the add gate's rule."),
                ("product", "$g\\,x\\,y$", "The local derivative is $y$, not $xy$."),
            ],
            "A multiply gate swaps its inputs: $x$ gets $g\\,y$ and $y$ gets $g\\,x$.",
        ),
        _q(
            "A max gate $z = \\max(x, y)$ with $x > y$ receives gradient $g$. What do $x$ and $y$ "
            "get?",
            "$x$ gets $g$ and $y$ gets 0.",
            [
                ("both", "Both get $g$.", "Only the input that won affects the output."),
                ("split", "Each gets $g/2$.", "A max does not average; it routes."),
                ("loser", "$y$ gets $g$ and $x$ gets 0.", "The gradient goes to the larger input."),
            ],
            "A max gate is a router: the gradient flows to the winning input only.",
        ),
        _q(
            "A value $x$ is used by two later nodes. How is $\\partial L/\\partial x$ formed?",
            "The gradients from both uses are added.",
            [
                (
                    "first",
                    "Only the first use counts.",
                    "Both uses change the loss; both contribute.",
                ),
                (
                    "multiplied",
                    "The two gradients are multiplied.",
                    "Separate paths add (multivariable chain rule).",
                ),
                ("averaged", "The two gradients are averaged.", "They add; they are not averaged."),
            ],
            "Gradients add at a fork: $\\partial L/\\partial x = \\sum_{\\text{uses}} \\partial "
            "L/\\partial x_{\\text{use}}$.",
        ),
        _q(
            "Why is backpropagation efficient compared with computing each weight's derivative "
            "separately?",
            "It reuses each layer's delta for all the weights below it, so one backward pass "
            "costs about as much as a forward pass.",
            [
                (
                    "approximates",
                    "It approximates the derivatives instead of computing them.",
                    "Backpropagation is exact; finite differences approximate.",
                ),
                (
                    "skips_layers",
                    "It only differentiates the last layer.",
                    "It differentiates every layer, reusing shared factors.",
                ),
                (
                    "random",
                    "It samples a few weights at random.",
                    "Every weight gets its exact gradient.",
                ),
            ],
            "Shared factors (deltas) are computed once and reused: reverse-mode differentiation.",
        ),
        _q(
            "With $z = w x + b$ and $\\delta = \\partial L/\\partial z$, what is $\\partial "
            "L/\\partial b$?",
            "$\\delta$",
            [
                (
                    "times_x",
                    "$\\delta\\,x$",
                    "That is $\\partial L/\\partial w$; $\\partial z/\\partial b = 1$.",
                ),
                ("times_w", "$\\delta\\,w$", "That is $\\partial L/\\partial x$."),
                ("zero", "0", "The bias shifts $z$ one-for-one."),
            ],
            "$\\partial z/\\partial b = 1$, so the bias gradient is the delta itself.",
        ),
    ],
    "gradient_descent": [
        _q(
            "With $w = 0.8$, $\\partial L/\\partial w = 0.5$ and $\\eta = 0.1$, what is $w$ after "
            "one step?",
            "0.75",
            [
                ("ascent", "0.85", "Descent subtracts $\\eta$ times the gradient."),
                ("no_eta", "0.3", "Scale the gradient by the learning rate."),
                ("unchanged", "0.8", "A nonzero gradient changes the weight."),
            ],
            "$w - \\eta\\,\\partial L/\\partial w = 0.8 - 0.1 \\cdot 0.5 = 0.75$.",
        ),
        _q(
            "What happens to gradient descent near a minimum of a smooth loss?",
            "The gradient shrinks, so the steps shrink too, even with a fixed learning rate.",
            [
                (
                    "same_size",
                    "The steps keep the same size.",
                    "The step is $\\eta$ times the gradient, which goes to 0.",
                ),
                (
                    "jumps",
                    "It jumps past the minimum every time.",
                    "Only with a learning rate that is too large.",
                ),
                (
                    "stops_exactly",
                    "It stops exactly at the minimum after one step.",
                    "It approaches the minimum gradually.",
                ),
            ],
            "Steps are proportional to the gradient, which vanishes at a minimum.",
        ),
        _q(
            "What is a symptom of a learning rate that is too small?",
            "The loss decreases, but very slowly.",
            [
                (
                    "diverges",
                    "The loss grows without bound.",
                    "That is the symptom of a learning rate that is too large.",
                ),
                (
                    "oscillates",
                    "The loss oscillates wildly.",
                    "Oscillation means the steps overshoot: too large a rate.",
                ),
                ("nan", "The weights become NaN.", "Overflow comes from steps that are too large."),
            ],
            "Small steps are safe but slow.",
        ),
        _q(
            "What does the gradient $\\nabla_w L$ point toward?",
            "The direction of steepest increase of the loss.",
            [
                (
                    "decrease",
                    "The direction of steepest decrease of the loss.",
                    "That is $-\\nabla_w L$.",
                ),
                (
                    "minimum",
                    "Straight at the minimum.",
                    "It points uphill locally; the minimum may lie elsewhere.",
                ),
                (
                    "zero",
                    "The origin of weight space.",
                    "It depends on the loss, not on the origin.",
                ),
            ],
            "Descent steps against the gradient.",
        ),
        _q(
            "Why does stochastic (mini-batch) gradient descent make noisy progress?",
            "Each step uses a gradient estimated from a few examples, not the whole training set.",
            [
                (
                    "random_lr",
                    "The learning rate changes randomly.",
                    "The rate is fixed; the gradient estimate varies.",
                ),
                (
                    "wrong_sign",
                    "Its gradients have the wrong sign half the time.",
                    "Mini-batch gradients are unbiased estimates of the full gradient.",
                ),
                (
                    "no_backprop",
                    "It does not use backpropagation.",
                    "It backpropagates on each mini-batch.",
                ),
            ],
            "A mini-batch gradient is an unbiased but noisy estimate of the full gradient.",
        ),
        _q(
            "What does momentum add to plain gradient descent?",
            "A running velocity: each step adds a fraction of the previous step.",
            [
                (
                    "larger_lr",
                    "A larger learning rate.",
                    "Momentum accumulates past gradients; it does not change $\\eta$.",
                ),
                (
                    "second_derivative",
                    "The loss's second derivatives.",
                    "Momentum uses only gradients.",
                ),
                ("random_kick", "Random kicks to escape minima.", "The velocity is deterministic."),
            ],
            "$v \\leftarrow \\mu v + g$, $w \\leftarrow w - \\eta v$.",
        ),
        _q(
            "Gradient descent on $L(w) = w^2$ with $\\eta = 0.5$ starting at $w = 3$: where is "
            "$w$ after one step?",
            "0",
            [
                ("half", "1.5", "$\\partial L/\\partial w = 2w = 6$, so $w - 0.5 \\cdot 6 = 0$."),
                ("ascent", "6", "Descent subtracts the scaled gradient."),
                (
                    "no_two",
                    "1.5 (using $\\partial L/\\partial w = w$)",
                    "The derivative of $w^2$ is $2w$.",
                ),
            ],
            "$3 - 0.5 \\cdot 2 \\cdot 3 = 0$: here $\\eta = 1/2$ jumps straight to the minimum.",
        ),
        _q(
            "When does gradient descent stop changing the weights?",
            "When the gradient is zero: at a minimum, maximum or saddle point.",
            [
                (
                    "loss_zero",
                    "Only when the loss is exactly zero.",
                    "The loss at a minimum need not be zero.",
                ),
                (
                    "after_epoch",
                    "After one pass over the data.",
                    "Training runs for as many steps as we choose.",
                ),
                (
                    "weights_zero",
                    "When the weights reach zero.",
                    "Zero weights are not special to descent.",
                ),
            ],
            "The update is $-\\eta\\nabla L$; it vanishes exactly where the gradient does.",
        ),
    ],
    "hidden_layers": [
        _q(
            "Which function can a network with one hidden layer of nonlinear units represent that "
            "a single linear layer cannot?",
            "XOR of two binary inputs.",
            [
                (
                    "and",
                    "AND of two binary inputs.",
                    "AND is linearly separable: one unit suffices.",
                ),
                ("identity", "The identity $y = x$.", "A linear layer computes it directly."),
                ("sum", "The sum of the inputs.", "That is linear."),
            ],
            "XOR is not linearly separable; a hidden layer makes it separable.",
        ),
        _q(
            "How is the error signal of a hidden unit obtained?",
            "From the deltas of the layer above, weighted by the connecting weights, times the "
            "unit's $f'(z)$.",
            [
                (
                    "own_target",
                    "By comparing its activation with its own target.",
                    "Hidden units have no targets.",
                ),
                (
                    "copy_output",
                    "By copying the output error unchanged.",
                    "The error is weighted by the outgoing weights and scaled by $f'$.",
                ),
                ("random", "It is drawn at random.", "It is computed exactly by the chain rule."),
            ],
            "$\\delta_j = f'(z_j)\\sum_k w_{kj}\\delta_k$.",
        ),
        _q(
            "Why must the weights of a hidden layer not all start equal?",
            "Equal weights give every hidden unit the same gradient, so they stay identical "
            "forever.",
            [
                (
                    "overflow",
                    "Equal weights overflow the activations.",
                    "Overflow is not the issue; symmetry is.",
                ),
                (
                    "zero_gradient",
                    "Equal weights make every gradient exactly zero.",
                    "Gradients exist but are identical across units.",
                ),
                (
                    "slower_forward",
                    "They make the forward pass slower.",
                    "Speed does not depend on the values.",
                ),
            ],
            "Random initialisation breaks the symmetry between hidden units.",
        ),
        _q(
            "Why is the ReLU's derivative convenient in hidden layers?",
            "It is 1 for active units, so it does not shrink the back-propagated gradient.",
            [
                ("always_one", "It is 1 everywhere.", "It is 0 for negative inputs."),
                ("smooth", "It is smooth at 0.", "ReLU has a kink at 0."),
                ("bounded_quarter", "It is at most 1/4.", "That is the sigmoid's derivative."),
            ],
            "ReLU'(z) = 1 for z > 0 and 0 for z < 0.",
        ),
        _q(
            "A hidden sigmoid unit has $z = 8$. What happens to the gradients through it?",
            "They are tiny: $\\sigma'(8) \\approx 0.0003$, the unit is saturated.",
            [
                ("largest", "They are largest there.", "$\\sigma'$ is largest at $z = 0$."),
                ("unchanged", "They pass unchanged.", "They are multiplied by $\\sigma'(z)$."),
                ("negative", "They change sign.", "$\\sigma'$ is always positive."),
            ],
            "Saturated units pass almost no gradient.",
        ),
        _q(
            "What is the shape of $\\partial L/\\partial W$ for a layer with $W$ of shape (3, 2)?",
            "(3, 2), the same as $W$.",
            [
                (
                    "transposed",
                    "(2, 3)",
                    "A gradient has its parameter's shape: $\\delta\\,a^T$ is (3, 2).",
                ),
                ("scalar", "A single number.", "Each weight has its own partial derivative."),
                ("vector", "A vector of length 3.", "That is the bias gradient's shape."),
            ],
            "$\\partial L/\\partial W = \\delta\\,a^T$ with $\\delta$ (3,) and $a$ (2,).",
        ),
        _q(
            "What would a deep network of only linear layers be equivalent to?",
            "A single linear layer.",
            [
                (
                    "deeper_better",
                    "A more expressive model than one layer.",
                    "Compositions of linear maps stay linear.",
                ),
                (
                    "constant",
                    "A constant function.",
                    "It is still linear in the input, not constant.",
                ),
                (
                    "polynomial",
                    "A polynomial of degree equal to the depth.",
                    "Products of matrices give a matrix, not a polynomial in x.",
                ),
            ],
            "$W_3 W_2 W_1 x = W x$.",
        ),
        _q(
            "In the matrix form of backpropagation, which operation applies the activation's "
            "derivative?",
            "An elementwise (Hadamard) product with $f'(z^l)$.",
            [
                (
                    "matrix_product",
                    "A matrix product with $f'(z^l)$.",
                    "The derivative acts unit by unit: elementwise.",
                ),
                ("addition", "Adding $f'(z^l)$.", "Chain-rule factors multiply."),
                (
                    "transpose",
                    "Transposing $f'(z^l)$.",
                    "Transposes belong to the weight matrices.",
                ),
            ],
            "$\\delta^l = (W^{l+1})^T\\delta^{l+1} \\odot f'(z^l)$.",
        ),
    ],
    "vanishing_gradients": [
        _q(
            "A chain of 10 sigmoid layers with weights 1: at most how large is the gradient "
            "factor?",
            "$0.25^{10} \\approx 10^{-6}$",
            [
                ("one", "1", "Each layer contributes at most $\\sigma' = 1/4$."),
                (
                    "tenth",
                    "$10 \\cdot 0.25 = 2.5$",
                    "Factors along a path multiply, they do not add.",
                ),
                ("quarter", "$0.25$", "There is one factor per layer: ten of them."),
            ],
            "Ten factors of at most 1/4 multiply.",
        ),
        _q(
            "What is an exploding gradient?",
            "Gradients that grow geometrically as they pass back through many layers (factors "
            "above 1).",
            [
                (
                    "large_loss",
                    "A loss that is large.",
                    "The loss can be large with modest gradients.",
                ),
                (
                    "relu_dead",
                    "ReLU units that output 0.",
                    "That is the dying-ReLU problem (zero gradients).",
                ),
                (
                    "many_params",
                    "A model with too many parameters.",
                    "Size alone does not make gradients explode.",
                ),
            ],
            "Repeated factors $|w f'| > 1$ multiply into huge gradients.",
        ),
        _q(
            "Which remedy is aimed at exploding gradients?",
            "Gradient clipping (rescaling the gradient when its norm is too large).",
            [
                ("more_layers", "Adding more layers.", "More layers multiply more factors."),
                ("larger_init", "Larger initial weights.", "Larger weights make factors larger."),
                (
                    "sigmoid_everywhere",
                    "Using sigmoid everywhere.",
                    "That trades explosion for vanishing.",
                ),
            ],
            "Clipping bounds the step without changing its direction.",
        ),
        _q(
            "Why do LSTMs suffer less from vanishing gradients than plain RNNs?",
            "The cell state is updated additively, $c' = f c + i g$, so the gradient along it is "
            "scaled by the forget gate, not by $w\\,\\tanh'$ at every step.",
            [
                (
                    "no_backprop",
                    "They are not trained by backpropagation.",
                    "They are trained by backpropagation through time.",
                ),
                (
                    "fewer_steps",
                    "They process fewer time steps.",
                    "They process the same sequence.",
                ),
                ("linear", "They have no nonlinearities.", "Their gates are sigmoids and tanh."),
            ],
            "$\\partial c'/\\partial c = f$: a gate near 1 keeps the gradient alive.",
        ),
        _q(
            "In a plain RNN, what multiplies the gradient at each step back in time?",
            "$w_h \\tanh'(a_t)$, the recurrent weight times the activation's derivative.",
            [
                ("input_weight", "The input weight $w_x$.", "The recurrence goes through $w_h$."),
                ("constant_one", "1", "Only an identity recurrence would give 1."),
                ("loss", "The loss value.", "The loss enters once, at the output."),
            ],
            "$\\partial h_t/\\partial h_{t-1} = w_h\\tanh'(a_t)$.",
        ),
        _q(
            "Which initialisation keeps the variance of signals roughly constant through ReLU "
            "layers?",
            "He initialisation: weight variance $2/n_{\\text{in}}$.",
            [
                ("zeros", "All weights zero.", "Zero weights pass no signal and break symmetry."),
                ("ones", "All weights one.", "The signal grows with the width at every layer."),
                ("tiny", "Weights of order $10^{-6}$.", "Signals and gradients shrink to nothing."),
            ],
            "He initialisation compensates for ReLU zeroing half its inputs.",
        ),
        _q(
            "What symptom suggests vanishing gradients during training?",
            "The first layers' weights barely change while the last layers learn.",
            [
                ("nan", "The loss becomes NaN.", "NaNs suggest exploding values."),
                (
                    "fast",
                    "Training converges faster than expected.",
                    "Vanishing gradients slow training down.",
                ),
                (
                    "output_stuck",
                    "Only the output layer stops learning.",
                    "It is the early layers that stall.",
                ),
            ],
            "Early layers receive the smallest gradients.",
        ),
        _q(
            "How does batch normalization help with vanishing gradients?",
            "It keeps pre-activations near zero mean and unit variance, away from saturated "
            "regions.",
            [
                (
                    "removes_backprop",
                    "It removes the need for backpropagation.",
                    "Its own backward pass is part of backpropagation.",
                ),
                (
                    "bigger_lr_only",
                    "It only allows a larger learning rate.",
                    "The larger usable rate is a consequence, not the mechanism.",
                ),
                ("fewer_layers", "It reduces the number of layers.", "It adds a layer."),
            ],
            "Normalised inputs keep activations where their derivatives are large.",
        ),
    ],
    "overview": [
        _q(
            "What does backpropagation compute?",
            "The gradient of the loss with respect to every weight and bias of the network.",
            [
                (
                    "updates",
                    "The new weights directly.",
                    "It computes gradients; the optimizer turns them into updates.",
                ),
                ("loss_only", "The value of the loss.", "That is the forward pass."),
                (
                    "inputs",
                    "The best input for a given output.",
                    "It differentiates with respect to parameters.",
                ),
            ],
            "Backpropagation is the chain rule applied efficiently, backwards from the loss.",
        ),
        _q(
            "Why do hidden layers need backpropagation to be trained?",
            "They have no targets of their own, so their error must be derived from the output "
            "error through the chain rule.",
            [
                (
                    "no_weights",
                    "They have no weights.",
                    "They have weights; that is what needs training.",
                ),
                (
                    "linear",
                    "Because they are linear.",
                    "Linearity has nothing to do with having targets.",
                ),
                ("random_search", "They cannot be trained at all.", "Backpropagation trains them."),
            ],
            "The delta rule needs a target; backpropagation supplies hidden units' error signals.",
        ),
        _q(
            "Which rule of calculus is backpropagation built on?",
            "The chain rule.",
            [
                ("product", "The product rule.", "Composition of layers calls for the chain rule."),
                ("quotient", "The quotient rule.", "Layers are composed, not divided."),
                ("integration", "Integration by parts.", "No integrals are involved."),
            ],
            "A network is a composition of functions; the chain rule differentiates compositions.",
        ),
        _q(
            "In which direction does gradient descent move the weights?",
            "Opposite to the gradient of the loss.",
            [
                (
                    "along",
                    "Along the gradient of the loss.",
                    "That is ascent: the loss would increase.",
                ),
                (
                    "random",
                    "In a random direction.",
                    "The direction is determined by the gradient.",
                ),
                ("toward_zero", "Always toward zero.", "Only weight decay pulls toward zero."),
            ],
            "$w \\leftarrow w - \\eta\\nabla_w L$.",
        ),
        _q(
            "What does the learning rate control?",
            "The size of each step along the negative gradient.",
            [
                ("direction", "The direction of each step.", "The gradient sets the direction."),
                ("data", "How many examples are used per step.", "That is the batch size."),
                (
                    "depth",
                    "How many layers are trained.",
                    "All layers are trained with the same rule.",
                ),
            ],
            "The step is $\\eta$ times the gradient.",
        ),
        _q(
            "What are vanishing gradients?",
            "Gradients that shrink toward zero as they are propagated back through many layers.",
            [
                (
                    "zero_loss",
                    "Gradients that are zero because the loss is zero.",
                    "Vanishing concerns depth, not a perfect fit.",
                ),
                (
                    "deleted",
                    "Gradients deleted by the optimizer.",
                    "Optimizers use the gradients they are given.",
                ),
                (
                    "output_only",
                    "Gradients that vanish at the output layer.",
                    "The output layer usually gets the largest gradients.",
                ),
            ],
            "Products of many factors below 1 vanish.",
        ),
        _q(
            "How does a mini-batch gradient differ from the full-batch gradient?",
            "It averages over a small random subset of examples: cheaper per step, but noisy.",
            [
                (
                    "exact",
                    "It is exactly equal to the full-batch gradient.",
                    "It is an estimate; it varies from batch to batch.",
                ),
                (
                    "biased_sign",
                    "It always points the opposite way.",
                    "On average it points the same way.",
                ),
                ("slower", "It is more expensive per step.", "It uses fewer examples per step."),
            ],
            "Mini-batch gradients are unbiased, noisy estimates.",
        ),
        _q(
            "Why is the mean (rather than the sum) of per-example losses usually used for a "
            "mini-batch?",
            "So the gradient's size and a good learning rate do not depend on the batch size.",
            [
                (
                    "required",
                    "Because the sum has no gradient.",
                    "The sum has a gradient, B times larger.",
                ),
                (
                    "different_direction",
                    "Because the sum's gradient points elsewhere.",
                    "Mean and sum point the same way; only the length differs.",
                ),
                ("faster", "Because the mean is faster to compute.", "The cost is the same."),
            ],
            "The sum's gradient is B times the mean's.",
        ),
        _q(
            "In what order are the passes of one training step?",
            "Forward pass, loss, backward pass, then the weight update.",
            [
                (
                    "update_first",
                    "Update, forward pass, backward pass.",
                    "Gradients are needed before any update.",
                ),
                (
                    "backward_first",
                    "Backward pass, then forward pass.",
                    "The backward pass needs the forward pass's values.",
                ),
                (
                    "interleaved",
                    "Update each layer as soon as its gradient is known, then continue backwards.",
                    "Lower layers' gradients must use the weights of the forward pass.",
                ),
            ],
            "Forward values are stored, gradients computed backwards, then all weights updated.",
        ),
        _q(
            "Why is a gradient check with finite differences useful?",
            "It verifies an analytic backward pass against an independent numerical estimate.",
            [
                (
                    "training",
                    "It is a faster way to train.",
                    "It needs two loss evaluations per parameter: far slower.",
                ),
                (
                    "exact",
                    "It is more exact than backpropagation.",
                    "It has truncation and rounding error.",
                ),
                (
                    "replaces",
                    "It replaces the need for a loss function.",
                    "It differentiates the loss.",
                ),
            ],
            "Central differences agree with a correct analytic gradient to about 1e-7 relative.",
        ),
    ],
}

BANKS: dict[str, list[Question]] = {
    name: [*BASE_BANKS.get(name, []), *questions] for name, questions in EXTRA.items()
}

OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["banks"],
    "properties": {
        "banks": {"type": "array", "items": {"type": "string", "enum": list(BANKS)}, "minItems": 1},
    },
}


def _pool(options: Mapping[str, Any]) -> list[Question]:
    return [q for b in options.get("banks", list(BANKS)) for q in BANKS[b]]


@register_family
class ConceptBank(ConceptChoice):
    """A question drawn from the larger banks; options shuffled, each wrong one explained."""

    name = "concept_bank"
    description = "concept multiple choice from banks of 10+ questions, options shuffled"
    draws = True
    options_schema: ClassVar[dict[str, Any]] = OPTIONS_SCHEMA

    def validate_options(self, options: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
        """Banks only (custom questions belong to ``concept_choice``)."""
        return []

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Which question of the pool."""
        return {"q": {"choices": list(range(len(_pool(options))))}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """One choice answer; every wrong option's code."""
        codes = tuple(dict.fromkeys(c for q in _pool(options) for c, _, _ in q[2]))
        return {"answer": QuantityInfo("choice", codes, "the right option")}

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """The ``concept_choice`` build on this pool (a one-question custom pool)."""
        stem, correct, wrong, why = _pool(options)[int(params["q"])]
        custom = {
            "question": stem,
            "correct": correct,
            "wrong": [{"code": c, "text": t, "feedback": f} for c, t, f in wrong],
            "explanation": why,
        }
        return super().build({"q": 0}, custom, rng)
