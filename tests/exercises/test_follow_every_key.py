"""Follow-through rules of quantities the library exercises do not ask for.

The library-wide tests (test_follow_through.py) cover the parts the library asks for. Here an
exercise asks for every numeric quantity of a family, so every recipe is resolved against
its real sources and must give back its key (the generator refuses one that does not), and
the dependencies are exactly the real ones: a quantity that does not use an earlier value
has no rule.
"""

from __future__ import annotations

import math

import pytest

from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.spec import ExerciseSpec
from grader.exercises.spec import spec_from_data

#: family -> {quantity: the quantities its key is computed from, or () for none}
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "softmax_cross_entropy": {
        "probs": (),
        "dz": ("probs",),
        "dW": ("dz",),
        "loss": ("probs",),
    },
    "softmax_hidden": {
        "probs": (),
        "dz": ("probs",),
        "dh": ("dz",),
        "delta1": ("dh",),
        "dW1": ("delta1",),
    },
    "lstm_step": {
        "c_new": (),
        "h_new": ("c_new",),
        "dc_new": ("c_new",),
        "dc": ("dc_new",),
        "da_f": ("dc_new",),
        "da_o": ("c_new",),
    },
    "bptt_scalar": {"hs": (), "dWhh": ("hs",), "dWxh": ("hs",), "factor": ("hs",)},
    "shared_weight": {"path1": (), "path2": (), "dw": ("path1", "path2")},
    "lr_behaviour": {"w1": (), "w3": ("w1",), "ratio": ("w1",)},
    # a reported pair and a step function: no rules (see the family modules)
    "gradient_check": {"numerical": (), "analytic": (), "rel_error": ()},
    "depth_gradients": {"product": (), "factor": (), "depth": ()},
    # ∂L/∂β reads dy alone; ∂L/∂x reads the student's x̂, ∂L/∂β and ∂L/∂γ
    "batchnorm_grad": {
        "x_hat": (),
        "dbeta": (),
        "dgamma": ("x_hat",),
        "dx": ("dbeta", "x_hat", "dgamma"),
    },
    # ∂L/∂h is the mask and scale applied to dy v: it never reads ĥ
    "dropout_grad": {"h_drop": (), "dh": (), "dv": ("h_drop",)},
    "minibatch_average": {
        "grad_w_single": (),
        "grad_w_batch": ("grad_w_single",),
        "grad_b_batch": (),
        "w_new": ("grad_w_batch",),
    },
    "weight_decay": {"reg_grad": (), "shrink": (), "w_new": ("reg_grad",)},
    "softplus_ssr": {
        "dssr_db3": (),
        "b3_step1": ("dssr_db3",),
        "b3_final": ("b3_step1",),
        "ssr": (),
    },
    "optimizer_step": {"w1": (), "w2": ("w1",)},
    # the gradients read the given upstream g, never y; pooling routes by x
    "conv1d_grad": {"y": (), "dw": (), "dx": ()},
    "conv2d_grad": {"y": (), "dw": (), "dx": ()},
    "pooling_grad": {"y_max": (), "dx_max": (), "dx_avg": ()},
}


def every_key(family: str) -> ExerciseSpec:
    """An exercise asking for each listed quantity, one part each (part id = quantity)."""
    return spec_from_data(
        {
            "id": f"every-key-{family.replace('_', '-')}",
            "title": family,
            "version": 1,
            "family": family,
            "prompt": "every key",
            "parts": [{"id": q, "key": q, "prompt": q} for q in EXPECTED[family]],
        }
    )


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_each_rule_reads_exactly_the_real_sources(family: str) -> None:
    spec = every_key(family)
    for seed in range(20):
        v = generate(spec, seed)  # raises if a recipe does not give back its key
        got = {p.id: p.follow.sources if p.follow else () for p in v.parts}
        assert {k: set(s) for k, s in got.items()} == {
            k: set(s) for k, s in EXPECTED[family].items()
        }, seed
        for p in v.parts:
            assert p.label, (family, p.id)
            if p.follow:
                assert set(p.follow.labels) == set(p.follow.sources)


def test_the_loss_follows_a_wrong_distribution() -> None:
    """L = −log p_c from the student's own p (here the right p, in the wrong order)."""
    spec = every_key("softmax_cross_entropy")
    seen = 0
    for seed in range(20):
        v = generate(spec, seed)
        p = v.part("probs").key
        mine = list(reversed(p))
        c = int(v.params["label"]) - 1
        loss = -math.log(mine[c])
        answers = {"probs": "[" + ", ".join(f"{x:.7g}" for x in mine) + "]"}
        if judge(v, "loss", f"{loss:.7g}").status is not Status.INCORRECT:
            continue  # p_c is the middle entry: reversing p leaves the loss as it was
        j = judge_following(v, "loss", f"{loss:.7g}", answers)
        assert j.status is Status.CONSISTENT, (seed, j.feedback)
        assert [f.part for f in j.follows] == ["probs"]
        seen += 1
    assert seen >= 5


def test_the_shared_gradient_follows_both_contributions() -> None:
    spec = every_key("shared_weight")
    for seed in range(20):
        v = generate(spec, seed)
        p1, p2 = v.part("path1").key + 0.5, -v.part("path2").key
        answers = {"path1": f"{p1:.7g}", "path2": f"{p2:.7g}"}
        j = judge_following(v, "dw", f"{p1 + p2:.7g}", answers)
        assert j.status is Status.CONSISTENT, (seed, j.feedback)
        assert {f.part for f in j.follows} == {"path1", "path2"}
        assert "those values were wrong" in j.feedback
