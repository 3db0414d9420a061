"""Follow-through in the families whose rules need more than the generic tests check.

- an update judged by its step (w₂ = w₁ − step) from a wrong w₁: the right step from the
  student's own w₁ is ``consistent``, a slipped or missing step never is, whatever the
  magnitude of that w₁ (the precision rule re-settled alone would widen the tolerance);
- a dependent key that does not depend on the earlier value in this draw gets no rule;
- the rules carry the error the way the key is computed (hand computations, not recipes).
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.spec import load_spec_text
from tests.support.follow_values import text


@pytest.mark.parametrize("seed", range(120))
def test_a_slip_in_the_second_step_from_a_wrong_first_is_never_consistent(gen, seed) -> None:
    v = gen("optimizer-steps", seed)
    w1, w2 = float(v.part("w1").key), float(v.part("w2").key)
    for start in (1.5 * w1, -1.6 * w1 + 0.3, 3 * w1 + 0.2, -w1 - 1.5, 10 * w1):
        answers = {"w1": text(start)}
        if judge(v, "w1", answers["w1"]).status is not Status.INCORRECT:
            continue
        right = judge_following(v, "w2", text(start + (w2 - w1)), answers)
        assert right.status is Status.CONSISTENT, (seed, start)
        assert right.follows[0].part == "w1"
        # the same start with no second step, or with a mistaken one
        steps = {"unchanged": 0.0, **{m.code: float(m.value) - w1 for m in v.part("w2").mistakes}}
        for code, step in steps.items():
            j = judge_following(v, "w2", text(start + step), answers)
            assert j.status is Status.INCORRECT, (seed, start, code)


def test_batchnorm_carries_a_wrong_x_hat_into_both_sums(gen) -> None:
    for seed in range(20):
        v = gen("batchnorm-backward", seed)
        p = v.params
        x, dy, gamma = np.array(p["x"]), np.array(p["dy"]), p["gamma"]
        n = len(x)
        inv = 1 / np.sqrt(x.var() + 1e-5)
        xh = np.array(v.part("xhat").key) * 1.3 - 0.1  # the student's x̂
        dgamma = float(dy @ xh)
        dx = gamma * inv / n * (n * dy - dy.sum() - xh * float(dy @ xh))
        answers = {"xhat": text(xh.tolist()), "dgamma": text(dgamma)}
        assert judge_following(v, "dgamma", text(dgamma), answers).status is Status.CONSISTENT
        j = judge_following(v, "dx", text(dx.tolist()), answers)
        assert j.status is Status.CONSISTENT, seed
        assert [f.part for f in j.follows] == ["xhat", "dgamma"]
        # with ∂L/∂γ skipped, the one the student's x̂ gives is carried
        j = judge_following(v, "dx", text(dx.tolist()), {"xhat": answers["xhat"]})
        assert j.status is Status.CONSISTENT, seed
        assert [f.part for f in j.follows] == ["xhat"]
        # a slip in ∂L/∂γ alone, from the right x̂, carries into ∂L/∂x
        right_xh = np.array(v.part("xhat").key)
        slipped = float(v.part("dgamma").key) * 2.0 + 0.3
        dx = gamma * inv / n * (n * dy - dy.sum() - right_xh * slipped)
        j = judge_following(v, "dx", text(dx.tolist()), {"dgamma": text(slipped)})
        assert j.status is Status.CONSISTENT, seed
        assert [f.part for f in j.follows] == ["dgamma"]
        # a wrong Σ dy carries too
        dbeta = float(dy.sum()) + 0.5
        right_xh, right_dgamma = np.array(v.part("xhat").key), float(v.part("dgamma").key)
        dx = gamma * inv / n * (n * dy - dbeta - right_xh * right_dgamma)
        j = judge_following(v, "dx", text(dx.tolist()), {"dbeta": text(dbeta)})
        assert j.status is Status.CONSISTENT, seed


def test_the_batch_gradient_averages_the_students_own_first_example(gen) -> None:
    for seed in range(20):
        v = gen("minibatch-average", seed)
        p = v.params
        xs, ts = np.array(p["xs"]), np.array(p["ts"])
        per = 2 * (p["w"] * xs + p["b"] - ts) * xs
        single = float(per[0]) * 0.5  # forgot the factor 2 on example 1 only
        batch = (single + float(per[1:].sum())) / p["n"]
        answers = {"single": text(single), "batch": text(batch)}
        assert judge_following(v, "batch", text(batch), answers).status is Status.CONSISTENT
        update = p["w"] - p["eta"] * batch
        j = judge_following(v, "update", text(update), answers)
        assert j.status is Status.CONSISTENT, seed
        assert [f.part for f in j.follows] == ["batch"]


SSR = """
id: ssr-five
title: five points
version: 1
family: softplus_ssr
options:
  data: [[0.0, 0.0], [0.25, 0.5], [0.5, 1.0], [0.75, 0.5], [1.0, 0.0]]
parameters:
  eta: {{value: {eta}}}
prompt: "b3?"
parts:
  - {{id: slope, key: dssr_db3, prompt: "slope?"}}
  - {{id: step1, key: b3_step1, prompt: "one step?"}}
  - {{id: final, key: b3_final, prompt: "all steps?", mistakes: [{{code: sign_flipped}}]}}
"""


def test_the_final_b3_follows_step_one_by_the_real_iteration() -> None:
    spec = load_spec_text(SSR.format(eta=0.05), "ssr-five.yaml")
    for seed in range(10):
        v = generate(spec, seed)
        assert v.part("final").follow is not None
        p = v.params
        step1 = float(v.part("step1").key) + 0.3
        # each later step recomputes dSSR/db3 at the student's own b3: the prediction moves
        # one for one with b3, so the slope grows by 2n per unit of b3
        slope1 = float(v.part("step1").key) - float(p["b3"])  # −η · slope at the start
        b = step1
        start_slope = -slope1 / p["eta"]
        for _ in range(p["steps"] - 1):
            slope = start_slope + 2 * 5 * (b - p["b3"])
            b -= p["eta"] * slope
        j = judge_following(v, "final", text(b), {"step1": text(step1)})
        assert j.status is Status.CONSISTENT, seed


def test_no_rule_when_one_step_lands_on_the_minimum() -> None:
    # 2 n η = 2 · 5 · 0.1 = 1: one step lands on the minimum, and a second one goes back
    # there from any start, so the final b3 does not depend on the first step
    spec = load_spec_text(SSR.format(eta=0.1), "ssr-five.yaml")
    v = generate(spec, 0)
    assert v.part("step1").key == pytest.approx(v.part("final").key)
    assert v.part("step1").follow is not None
    assert v.part("final").follow is None
