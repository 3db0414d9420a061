"""Interval evaluation: each value with bounds that contain the exact result.

A difference seen at a sample point can be real or the rounding of cancelling terms:
``1 - tanh(900)^2`` is exactly 0 at 30, 60 and 120 digits while the true value is
``4e-782``, and a student's ``4/(e^900 + e^-900)^2`` gets it right. Evaluating both sides
on intervals (every operation rounded outward, with a few guard bits of slack for the
elementary functions) says which: disjoint intervals are a real difference; overlapping
ones only show agreement as far as their widths, and wide ones show nothing.

The same evaluation separates "undefined here" from "undefined by rounding": the log of
an interval wholly at or below zero is :class:`~grader.checking.evaluate.Undefined`, the
log of one that straddles zero is :class:`Uncertain`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from mpmath.ctx_mp import MPContext

from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import constant_integer
from grader.checking.limits import MAX_EXPONENT
from grader.checking.limits import MAX_FUNCTION_ARGUMENT
from grader.checking.limits import MAX_MAGNITUDE_BITS
from grader.checking.nodes import Node

Interval = tuple[Value, Value]
"""``(low, high)``, two mpf of the context in use."""

IntervalFn = Callable[["IntervalEnv"], Interval]

GUARD_BITS = 8
"""Slack, in bits below the working precision, added outward to every rounded bound."""


class Uncertain(EvaluationError):
    """The interval straddles a domain edge or a pole: defined or not, we cannot tell."""


class IntervalEnv:
    """Point values (exact, degenerate intervals) and interval-compiled definitions."""

    __slots__ = ("cache", "ctx", "definitions", "shift", "values")

    def __init__(
        self,
        ctx: MPContext,
        values: Mapping[str, Value],
        definitions: Mapping[str, IntervalFn],
    ) -> None:
        self.ctx = ctx
        self.values = values
        self.definitions = definitions
        self.cache: dict[str, Interval] = {}
        self.shift = GUARD_BITS - ctx.prec


def _out(env: IntervalEnv, low: Value, high: Value) -> Interval:
    """Widen outward by the rounding of one operation (relative, plus slack)."""
    ldexp = env.ctx.ldexp
    if low:
        low = low - ldexp(abs(low), env.shift)
    if high:
        high = high + ldexp(abs(high), env.shift)
    return low, high


def _check(node: Node, interval: Interval) -> Interval:
    for bound in interval:
        _, mantissa, exponent, bits = bound._mpf_
        if mantissa:
            if abs(exponent + bits) > MAX_MAGNITUDE_BITS:
                raise Overflow(node, "is too large")
        elif exponent:
            raise Uncertain(node, "is not a finite number")
    return interval


def _contains_zero(interval: Interval) -> bool:
    return bool(interval[0] <= 0 <= interval[1])


def _is_zero(interval: Interval) -> bool:
    return not interval[0] and not interval[1]


def _reciprocal(node: Node, env: IntervalEnv, x: Interval) -> Interval:
    if _is_zero(x):
        raise Undefined(node, "divides by zero")
    if _contains_zero(x):
        raise Uncertain(node, "may divide by zero")
    one = env.ctx.one
    return _out(env, one / x[1], one / x[0])


def _multiply(env: IntervalEnv, a: Interval, b: Interval) -> Interval:
    if a[0] == a[1] and b[0] == b[1]:
        value = a[0] * b[0]
        return _out(env, value, value)
    products = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    return _out(env, min(products), max(products))


def _increasing(function: Callable[[MPContext, Value], Value]) -> Callable[..., Interval]:
    def apply(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        ctx = env.ctx
        if x[0] == x[1]:
            value = function(ctx, x[0])
            return _out(env, value, value)
        return _out(env, function(ctx, x[0]), function(ctx, x[1]))

    return apply


def _bounded_argument(
    apply: Callable[[Node, IntervalEnv, Interval], Interval],
) -> Callable[[Node, IntervalEnv, Interval], Interval]:
    def guarded(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        if max(abs(x[0]), abs(x[1])) > MAX_FUNCTION_ARGUMENT:
            raise Overflow(node, "has too large an argument")
        return apply(node, env, x)

    return guarded


def _on_domain(
    low: float | None,
    high: float | None,
    apply: Callable[[Node, IntervalEnv, Interval], Interval],
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Callable[[Node, IntervalEnv, Interval], Interval]:
    """``apply`` where the interval lies in the domain; Undefined wholly outside it."""

    def inside(bound: Value, edge: float, is_open: bool, above: bool) -> bool:
        if above:
            return bool(bound > edge) if is_open else bool(bound >= edge)
        return bool(bound < edge) if is_open else bool(bound <= edge)

    def guarded(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        ok = True
        if low is not None:
            if not inside(x[1], low, open_low, True):
                raise Undefined(node, "is outside the domain of the function")
            ok = ok and inside(x[0], low, open_low, True)
        if high is not None:
            if not inside(x[0], high, open_high, False):
                raise Undefined(node, "is outside the domain of the function")
            ok = ok and inside(x[1], high, open_high, False)
        if not ok:
            raise Uncertain(node, "is at the edge of the domain of the function")
        return apply(node, env, x)

    return guarded


def _lipschitz(name: str) -> Callable[[Node, IntervalEnv, Interval], Interval]:
    """sin and cos: the value at the middle, give or take the half-width."""

    def apply(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        ctx = env.ctx
        function = getattr(ctx, name)
        if x[0] == x[1]:
            value = function(x[0])
            return _out(env, value, value)
        middle = (x[0] + x[1]) / 2
        radius = (x[1] - x[0]) / 2
        value = function(middle)
        low, high = _out(env, value - radius, value + radius)
        return max(low, -ctx.one), min(high, ctx.one)

    return _bounded_argument(apply)


def _abs(node: Node, env: IntervalEnv, x: Interval) -> Interval:
    if x[0] >= 0:
        return x
    if x[1] <= 0:
        return -x[1], -x[0]
    return env.ctx.zero, max(-x[0], x[1])


def _even(name: str) -> Callable[[Node, IntervalEnv, Interval], Interval]:
    """cosh: increasing in ``|x|``."""

    def apply(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        function = getattr(env.ctx, name)
        low, high = _abs(node, env, x)
        return _out(env, function(low), function(high))

    return _bounded_argument(apply)


def _sign(node: Node, env: IntervalEnv, x: Interval) -> Interval:
    ctx = env.ctx
    if x[0] > 0:
        return ctx.one, ctx.one
    if x[1] < 0:
        return -ctx.one, -ctx.one
    if _is_zero(x):
        return ctx.zero, ctx.zero
    raise Uncertain(node, "has an argument too close to zero")


def _relu(node: Node, env: IntervalEnv, x: Interval) -> Interval:
    zero = env.ctx.zero
    return max(zero, x[0]), max(zero, x[1])


def _quotient(top: str, bottom: str) -> Callable[[Node, IntervalEnv, Interval], Interval]:
    """``top(x)/bottom(x)`` (tan, cot, coth) or ``1/bottom(x)`` when ``top`` is empty."""

    def apply(node: Node, env: IntervalEnv, x: Interval) -> Interval:
        denominator = UNARY[bottom](node, env, x)
        inverse = _reciprocal(node, env, denominator)
        if not top:
            return inverse
        return _multiply(env, UNARY[top](node, env, x), inverse)

    return apply


def _acos(node: Node, env: IntervalEnv, x: Interval) -> Interval:
    return _out(env, env.ctx.acos(x[1]), env.ctx.acos(x[0]))  # decreasing


def _softplus(ctx: MPContext, x: Value) -> Value:
    if x > 0:
        return x + ctx.log1p(ctx.exp(-x))
    return ctx.log1p(ctx.exp(x))


UNARY: dict[str, Callable[[Node, IntervalEnv, Interval], Interval]] = {
    "exp": _bounded_argument(_increasing(lambda ctx, x: ctx.exp(x))),
    "log": _on_domain(0, None, _increasing(lambda ctx, x: ctx.log(x)), open_low=True),
    "log10": _on_domain(0, None, _increasing(lambda ctx, x: ctx.log(x, 10)), open_low=True),
    "log2": _on_domain(0, None, _increasing(lambda ctx, x: ctx.log(x, 2)), open_low=True),
    "sqrt": _on_domain(0, None, _increasing(lambda ctx, x: ctx.sqrt(x))),
    "abs": _abs,
    "sin": _lipschitz("sin"),
    "cos": _lipschitz("cos"),
    "atan": _increasing(lambda ctx, x: ctx.atan(x)),
    "asin": _on_domain(-1, 1, _increasing(lambda ctx, x: ctx.asin(x))),
    "acos": _on_domain(-1, 1, _acos),
    "sinh": _bounded_argument(_increasing(lambda ctx, x: ctx.sinh(x))),
    "cosh": _even("cosh"),
    "tanh": _increasing(lambda ctx, x: ctx.tanh(x)),
    "asinh": _increasing(lambda ctx, x: ctx.asinh(x)),
    "acosh": _on_domain(1, None, _increasing(lambda ctx, x: ctx.acosh(x))),
    "atanh": _on_domain(
        -1, 1, _increasing(lambda ctx, x: ctx.atanh(x)), open_low=True, open_high=True
    ),
    "sign": _sign,
    "sigmoid": _bounded_argument(_increasing(lambda ctx, x: 1 / (1 + ctx.exp(-x)))),
    "softplus": _bounded_argument(_increasing(_softplus)),
    "relu": _relu,
    "logit": _on_domain(
        0,
        1,
        _increasing(lambda ctx, x: ctx.log(x / (1 - x))),
        open_low=True,
        open_high=True,
    ),
}
UNARY.update(
    {
        "tan": _quotient("sin", "cos"),
        "cot": _quotient("cos", "sin"),
        "sec": _quotient("", "cos"),
        "csc": _quotient("", "sin"),
        "coth": _quotient("cosh", "sinh"),
        "sech": _quotient("", "cosh"),
        "csch": _quotient("", "sinh"),
    }
)


def _integer_power(node: Node, env: IntervalEnv, base: Interval, n: int) -> Interval:
    ctx = env.ctx
    if n == 0:
        return ctx.one, ctx.one
    if n < 0:
        return _reciprocal(node, env, _integer_power(node, env, base, -n))
    largest = max(abs(base[0]), abs(base[1]))
    if largest and n * max(1, abs(ctx.mag(largest))) > MAX_MAGNITUDE_BITS:
        raise Overflow(node, "is too large")
    if n % 2 == 1 or base[0] >= 0:
        return _out(env, base[0] ** n, base[1] ** n)
    if base[1] <= 0:
        return _out(env, base[1] ** n, base[0] ** n)
    return ctx.zero, _out(env, largest**n, largest**n)[1]


def _power(node: Node, env: IntervalEnv, base: Interval, exponent: Interval) -> Interval:
    ctx = env.ctx
    if exponent[0] == exponent[1]:
        e = exponent[0]
        if e == ctx.floor(e) and abs(e) <= MAX_EXPONENT:
            return _integer_power(node, env, base, int(e))
    if base[0] > 0:
        logarithm = _out(env, ctx.log(base[0]), ctx.log(base[1]))
        product = _multiply(env, exponent, logarithm)
        return UNARY["exp"](node, env, product)
    if _is_zero(base):
        if exponent[0] > 0:
            return ctx.zero, ctx.zero
        if exponent[1] < 0:
            raise Undefined(node, "divides by zero")
        raise Uncertain(node, "raises zero to a power near zero")
    if base[1] < 0 and exponent[0] == exponent[1]:
        raise Undefined(node, "raises a negative number to a fractional power")
    raise Uncertain(node, "raises a number near zero or below to a fractional power")


@functools.lru_cache(maxsize=4096)
def compile_interval(node: Node) -> IntervalFn:
    """Compile a scalar tree into a closure ``f(env) -> (low, high)``."""
    op = node.op
    if op == "num":
        value = node.value
        assert isinstance(value, Fraction)
        numerator, denominator = value.numerator, value.denominator

        def number(env: IntervalEnv) -> Interval:
            ctx = env.ctx
            if denominator == 1 and numerator.bit_length() <= ctx.prec:
                exact = ctx.mpf(numerator)
                return exact, exact
            rounded = ctx.mpf(numerator) / denominator
            return _out(env, rounded, rounded)

        return number
    if op == "name":
        name = str(node.value)

        def variable(env: IntervalEnv) -> Interval:
            if name in env.values:
                value = env.values[name]
                return value, value
            if name in env.cache:
                return env.cache[name]
            body = env.definitions.get(name)
            if body is None:
                raise Undefined(node, f"uses {name}, which has no value")
            env.cache[name] = body(env)
            return env.cache[name]

        return variable
    if op == "const":
        pick = (lambda ctx: +ctx.pi) if node.value == "pi" else (lambda ctx: +ctx.e)

        def constant(env: IntervalEnv) -> Interval:
            value = pick(env.ctx)
            return _out(env, value, value)

        return constant
    if op == "group":
        return compile_interval(node.args[0])
    if op == "neg":
        inner = compile_interval(node.args[0])

        def negate(env: IntervalEnv) -> Interval:
            low, high = inner(env)
            return -high, -low

        return negate
    if op == "add":
        terms = list(zip(tuple(node.value), [compile_interval(a) for a in node.args], strict=True))

        def add(env: IntervalEnv) -> Interval:
            low = high = env.ctx.zero
            for sign, term in terms:
                a, b = term(env)
                if sign > 0:
                    low, high = _out(env, low + a, high + b)
                else:
                    low, high = _out(env, low - b, high - a)
            return low, high

        return add
    if op == "mul":
        compiled_args = [compile_interval(a) for a in node.args]
        factors = list(zip(tuple(node.value), compiled_args, node.args, strict=True))

        def mul(env: IntervalEnv) -> Interval:
            ctx = env.ctx
            product: Interval = (ctx.one, ctx.one)
            for how, factor, arg in factors:
                value = factor(env)
                if how == "/":
                    value = _reciprocal(arg, env, value)
                product = _multiply(env, product, value)
            return _check(node, product)

        return mul
    if op == "pow":
        base_node, exponent_node = node.args
        exponent = compile_interval(exponent_node)
        if base_node.unwrap().op == "const" and base_node.unwrap().value == "e":
            exp = UNARY["exp"]

            def e_power(env: IntervalEnv) -> Interval:
                return _check(node, exp(node, env, exponent(env)))

            return e_power
        base = compile_interval(base_node)
        integer = constant_integer(exponent_node)
        if integer is not None:
            n = integer

            def int_pow(env: IntervalEnv) -> Interval:
                return _check(node, _integer_power(node, env, base(env), n))

            return int_pow

        def pow_(env: IntervalEnv) -> Interval:
            return _check(node, _power(node, env, base(env), exponent(env)))

        return pow_
    if op == "call":
        name = str(node.value)
        args = [compile_interval(arg) for arg in node.args]
        if name in ("max", "min"):
            pick = max if name == "max" else min

            def extreme(env: IntervalEnv) -> Interval:
                values = [arg(env) for arg in args]
                return pick(v[0] for v in values), pick(v[1] for v in values)

            return extreme
        function = UNARY[name]
        (arg,) = args

        def call(env: IntervalEnv) -> Interval:
            return _check(node, function(node, env, arg(env)))

        return call
    raise ValueError(f"cannot evaluate a {op} node on intervals")


def relative_width(interval: Interval) -> Any:
    """The width of an interval over its largest magnitude (0 for a point)."""
    low, high = interval
    size = max(abs(low), abs(high))
    if not size:
        return 0
    return (high - low) / size
