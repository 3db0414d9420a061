"""Family 14: concept questions (chain rule, gradient descent, hidden layers, vanishing
gradients) with the option order drawn per variant.

Each wrong option carries its own mistake code and feedback, so judging says which
misconception an answer shows. Banks are data in this module; an exercise may also give
its own question through options (text only, never code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.registry import register_family
from grader.exercises.kinds import ANSWER_KINDS
from grader.exercises.kinds import kind_of
from grader.exercises.kinds.choice import ChoiceKind
from grader.exercises.kinds.multiselect import MultiselectKind

# Each question: (stem, [correct texts], [(code, wrong text, feedback)], explanation)
Question = tuple[str, list[str], list[tuple[str, str, str]], str]

BANKS: dict[str, list[Question]] = {
    "chain_rule": [
        (
            "In backpropagation, how is $\\partial L/\\partial w$ for a weight deep in the "
            "network obtained?",
            ["By multiplying the local derivatives along the path from $w$ to the loss."],
            [
                (
                    "adds_local_derivatives",
                    "By adding the local derivatives along the path.",
                    "Along one path the chain rule multiplies local derivatives; only separate "
                    "paths are added.",
                ),
                (
                    "only_last_layer",
                    "From the output layer's derivative alone.",
                    "Every node between the weight and the loss contributes a factor.",
                ),
                (
                    "numeric_only",
                    "Only by nudging $w$ and measuring the change in $L$.",
                    "Finite differences check gradients; backpropagation computes them exactly "
                    "with the chain rule.",
                ),
            ],
            "The chain rule: $\\frac{\\partial L}{\\partial w} = \\frac{\\partial L}{\\partial y}"
            "\\frac{\\partial y}{\\partial z}\\frac{\\partial z}{\\partial w}$, one factor per "
            "step of the path.",
        ),
        (
            "A weight reaches the loss along two different paths. What is "
            "$\\partial L/\\partial w$?",
            ["The sum of the two paths' products of local derivatives."],
            [
                (
                    "multiplies_paths",
                    "The product of the two paths' gradients.",
                    "Separate paths add (the multivariable chain rule); factors multiply only "
                    "along one path.",
                ),
                (
                    "max_path",
                    "The larger of the two paths' gradients.",
                    "Both paths change the loss; their effects add.",
                ),
                (
                    "averages_paths",
                    "The average of the two paths' gradients.",
                    "The contributions add; they are not averaged.",
                ),
            ],
            "With several paths, $\\frac{\\partial L}{\\partial w} = \\sum_{\\text{paths}} "
            "\\prod (\\text{local derivatives})$.",
        ),
    ],
    "gradient_descent": [
        (
            "What does one step of gradient descent do with the gradient $\\nabla_w L$?",
            ["It moves the weights a small step in the direction of $-\\nabla_w L$."],
            [
                (
                    "ascends",
                    "It moves the weights in the direction of $+\\nabla_w L$.",
                    "That would increase the loss; descent goes against the gradient.",
                ),
                (
                    "sets_to_gradient",
                    "It sets the weights equal to the gradient.",
                    "The gradient is a direction for a small change, not a new value.",
                ),
                (
                    "solves_exactly",
                    "It jumps straight to the weights that minimise the loss.",
                    "Each step is local and small; many steps approach a minimum.",
                ),
            ],
            "$w \\leftarrow w - \\eta \\nabla_w L$: a step of size $\\eta$ downhill.",
        ),
        (
            "What happens if the learning rate is much too large?",
            ["The updates overshoot the minimum and the loss can grow (diverge)."],
            [
                (
                    "always_faster",
                    "Training always converges faster.",
                    "Beyond a point, steps overshoot and make things worse.",
                ),
                (
                    "stuck",
                    "The weights stop changing.",
                    "That is the symptom of a learning rate that is too small (or zero).",
                ),
                (
                    "no_effect",
                    "Nothing: only the direction of the gradient matters.",
                    "The learning rate scales the step; too large a step overshoots.",
                ),
            ],
            "On $L = a(w - c)^2$ each step multiplies $w - c$ by $1 - 2a\\eta$; for "
            "$\\eta > 1/a$ its size exceeds 1 and the iterates diverge.",
        ),
    ],
    "hidden_layers": [
        (
            "Why does a network need nonlinear activations in its hidden layers?",
            ["Without them, stacked layers collapse into a single linear map."],
            [
                (
                    "faster",
                    "They make the forward pass faster.",
                    "Nonlinearities cost time; they are there for expressiveness.",
                ),
                (
                    "gradients_exist",
                    "Without them the gradient cannot be computed.",
                    "Linear networks have gradients; they just can only represent linear "
                    "functions.",
                ),
                (
                    "fewer_weights",
                    "They reduce the number of weights.",
                    "Activations add no weights and remove none.",
                ),
            ],
            "$W_2(W_1 x) = (W_2 W_1)x$: a product of linear maps is linear.",
        ),
        (
            "What does backpropagation compute for a hidden unit?",
            ["How much the loss changes with that unit's pre-activation (its delta)."],
            [
                (
                    "its_target",
                    "The target value the hidden unit should output.",
                    "Hidden units have no targets; their error signal is the back-propagated "
                    "delta.",
                ),
                (
                    "its_activation",
                    "The unit's activation value.",
                    "That is the forward pass; backpropagation computes derivatives.",
                ),
                (
                    "nothing",
                    "Nothing: only the output layer's weights are trained.",
                    "Backpropagation exists precisely to train hidden layers.",
                ),
            ],
            "$\\delta^l = (W^{l+1})^T \\delta^{l+1} \\odot f'(z^l)$ gives every hidden "
            "unit its share of the error.",
        ),
    ],
    "vanishing_gradients": [
        (
            "Why do gradients tend to vanish in deep sigmoid networks?",
            ["Each layer multiplies the gradient by $\\sigma'(z) \\le 0.25$ (times a weight)."],
            [
                (
                    "too_many_weights",
                    "Because deep networks have too many weights.",
                    "The count of weights is not the cause; the repeated small factors are.",
                ),
                (
                    "learning_rate",
                    "Because the learning rate is too small.",
                    "The learning rate scales every update equally; it does not shrink early "
                    "layers' gradients relative to late ones.",
                ),
                (
                    "sigmoid_negative",
                    "Because the sigmoid's derivative is negative.",
                    "$\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$ is positive but at most 1/4.",
                ),
            ],
            "Backpropagating through $n$ sigmoid layers multiplies about $n$ factors "
            "$w\\,\\sigma'(z)$ with $\\sigma' \\le 1/4$.",
        ),
        (
            "Which choice helps against vanishing gradients?",
            ["Using ReLU activations, whose derivative is 1 for positive inputs."],
            [
                (
                    "more_sigmoid",
                    "Adding more sigmoid layers.",
                    "More layers multiply in more small factors: it gets worse.",
                ),
                (
                    "tiny_init",
                    "Initialising all weights very close to zero.",
                    "Tiny weights shrink the back-propagated signal even more.",
                ),
                (
                    "lower_lr",
                    "Lowering the learning rate.",
                    "That shrinks every update; it does not rebalance the gradients.",
                ),
            ],
            "ReLU's derivative is 1 where it is active, so the factors do not shrink.",
        ),
    ],
}

OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "banks": {"type": "array", "items": {"type": "string", "enum": list(BANKS)}, "minItems": 1},
        "question": {"type": "string", "minLength": 1, "maxLength": 2000},
        "correct": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "wrong": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "required": ["code", "text"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,63}$"},
                    "text": {"type": "string", "minLength": 1},
                    "feedback": {"type": "string"},
                },
            },
        },
        "explanation": {"type": "string"},
    },
}


def _pool(options: Mapping[str, Any]) -> list[Question]:
    if "question" in options:
        wrong = [(w["code"], w["text"], w.get("feedback", "")) for w in options["wrong"]]
        return [
            (options["question"], list(options["correct"]), wrong, options.get("explanation", ""))
        ]
    return [q for b in options.get("banks", list(BANKS)) for q in BANKS[b]]


@register_family
class ConceptChoice(Family):
    """A multiple-choice (or multiple-select) concept question, options shuffled."""

    name = "concept_choice"
    description = "concept multiple choice with randomized option order"
    options_schema: ClassVar[dict[str, Any]] = OPTIONS_SCHEMA

    def validate_options(self, options: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
        """A custom question needs correct and wrong options, and no banks."""
        out: list[tuple[tuple[str, ...], str]] = []
        if "question" in options:
            for name in ("correct", "wrong"):
                if name not in options:
                    out.append(((), f"a custom question needs {name}:"))
            if "banks" in options:
                out.append((("banks",), "give either banks or a custom question, not both"))
        elif any(k in options for k in ("correct", "wrong", "explanation")):
            out.append(((), "correct, wrong and explanation go with question:"))
        return out

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Which question of the pool."""
        return {"q": {"choices": list(range(len(_pool(options))))}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """One answer: a choice, or a multiselect when a question has several right options."""
        pool = _pool(options)
        codes = tuple(dict.fromkeys(c for q in pool for c, _, _ in q[2]))
        several = any(len(q[1]) > 1 for q in pool)
        kind = ANSWER_KINDS[MultiselectKind.name if several else ChoiceKind.name]
        missed = (kind.omission_code,) if kind.omission_code else ()
        return {"answer": QuantityInfo(kind.name, (*codes, *missed), "the right option(s)")}

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The question's stem (Markdown with LaTeX)."""
        return ("question",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Shuffle the options with the variant's rng and label them A, B, ..."""
        pool = _pool(options)
        stem, correct, wrong, explanation = pool[int(params["q"])]
        kind = kind_of(self.quantities(options)["answer"].type)
        items = [("", text, "") for text in correct] + list(wrong)
        order = [int(i) for i in rng.permutation(len(items))]
        letters = "ABCDEFGHIJKL"
        choices = []
        ids: dict[int, str] = {}
        for pos, original in enumerate(order):
            ids[original] = letters[pos]
            choices.append({"id": letters[pos], "text": items[original][1]})
        right = sorted(ids[i] for i in range(len(correct)))
        mistakes = []
        for j, (code, _, feedback) in enumerate(wrong, start=len(correct)):
            value = kind.choice_mistake(right, ids[j])
            mistakes.append(MistakeValue(code, value, feedback or "Not quite."))
        for rest in kind.choice_omissions(right):
            mistakes.append(
                MistakeValue(str(kind.omission_code), rest, "One right statement is not selected.")
            )
        key = kind.choice_key(right)
        answer_text = ", ".join(f"**{ids[i]}**" for i in range(len(correct)))
        solution = f"The right answer: {answer_text}. {explanation}".strip()
        return FamilyOutput(
            {"answer": Quantity(kind.name, key, tuple(mistakes), choices=tuple(choices))},
            {"question": stem},
            solution,
        )
