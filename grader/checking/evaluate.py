"""Bounded high-precision evaluation of parsed answers with mpmath.

Each tree is compiled once into Python closures. Every operation is guarded: values
outside the real domain raise :class:`Undefined`, values too large to be useful raise
:class:`Overflow`, so no sample point can run away with time or memory. Each thread
uses its own mpmath contexts, so concurrent checks never share a precision setting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from mpmath.ctx_mp import MPContext

from grader.checking.limits import MAX_CONSTANT_DIGITS
from grader.checking.limits import MAX_EXPONENT
from grader.checking.limits import MAX_FUNCTION_ARGUMENT
from grader.checking.limits import MAX_MAGNITUDE_BITS
from grader.checking.nodes import Node

Value = Any  # an mpf of the context in use
Compiled = Callable[["Env"], Value]


class EvaluationError(Exception):
    """Base of the two ways a value can fail to exist at a point."""

    def __init__(self, node: Node, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


class Undefined(EvaluationError):
    """The expression has no real value here (division by zero, log of a negative)."""


class Overflow(EvaluationError):
    """The value is too large (or small) to compare usefully; the point is skipped."""


class Env:
    """Values of the variables at one point, in one precision context.

    ``definitions`` maps a defined name (``s`` for ``sigmoid(z)``) to its compiled
    body, evaluated at most once per point.
    """

    __slots__ = ("cache", "ctx", "definitions", "values")

    def __init__(
        self,
        ctx: MPContext,
        values: Mapping[str, Value],
        definitions: Mapping[str, Compiled] | None = None,
    ) -> None:
        self.ctx = ctx
        self.values = values
        self.definitions = definitions or {}
        self.cache: dict[str, Value] = {}


_local = threading.local()


def context(dps: int) -> MPContext:
    """This thread's mpmath context with ``dps`` decimal digits."""
    contexts: dict[int, MPContext] | None = getattr(_local, "contexts", None)
    if contexts is None:
        contexts = {}
        _local.contexts = contexts
    ctx = contexts.get(dps)
    if ctx is None:
        ctx = MPContext()
        ctx.dps = dps
        contexts[dps] = ctx
    return ctx


def _checked(node: Node, value: Value) -> Value:
    """Refuse infinities, NaN and magnitudes too large to be useful.

    Reads mpmath's ``(sign, mantissa, exponent, bitcount)`` tuple directly: this runs
    after every multiplication, power and function call, so it must be cheap.
    """
    _, mantissa, exponent, bits = value._mpf_
    if mantissa:
        if abs(exponent + bits) > MAX_MAGNITUDE_BITS:
            raise Overflow(node, "is too large")
    elif exponent:  # mpmath encodes inf and nan as a zero mantissa with a tag
        raise Undefined(node, "is not a finite number")
    return value


checked = _checked
"""The same guard for callers outside this module that build values from parts."""


_GUARD_BITS = int(MAX_FUNCTION_ARGUMENT).bit_length() - 1
"""Below ``2**_GUARD_BITS`` an argument is certainly small enough (checked on the bits)."""


def _guard_argument(node: Node, x: Value) -> None:
    _, mantissa, exponent, bits = x._mpf_
    if mantissa and exponent + bits > _GUARD_BITS and abs(x) > MAX_FUNCTION_ARGUMENT:
        raise Overflow(node, "has too large an argument")


def _fn_exp(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    return ctx.exp(x)


def _fn_log(node: Node, ctx: MPContext, x: Value) -> Value:
    if x <= 0:
        raise Undefined(node, "takes the log of a number that is not positive")
    return ctx.log(x)


def _fn_sqrt(node: Node, ctx: MPContext, x: Value) -> Value:
    if x < 0:
        raise Undefined(node, "takes the square root of a negative number")
    return ctx.sqrt(x)


def _fn_guarded(name: str) -> Callable[[Node, MPContext, Value], Value]:
    """``ctx.<name>`` after refusing arguments too large to reduce or exponentiate."""

    def apply(node: Node, ctx: MPContext, x: Value) -> Value:
        _guard_argument(node, x)
        return getattr(ctx, name)(x)

    return apply


def _fn_reciprocal(base: str) -> Callable[[Node, MPContext, Value], Value]:
    def apply(node: Node, ctx: MPContext, x: Value) -> Value:
        _guard_argument(node, x)
        denominator = getattr(ctx, base)(x)
        if not denominator:
            raise Undefined(node, "divides by zero")
        return 1 / denominator

    return apply


def _fn_tan(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    cos = ctx.cos(x)
    if not cos:
        raise Undefined(node, "divides by zero")
    return ctx.sin(x) / cos


def _fn_cot(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    sin = ctx.sin(x)
    if not sin:
        raise Undefined(node, "divides by zero")
    return ctx.cos(x) / sin


def _fn_coth(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    sinh = ctx.sinh(x)
    if not sinh:
        raise Undefined(node, "divides by zero")
    return ctx.cosh(x) / sinh


def _fn_log_base(base: int) -> Callable[[Node, MPContext, Value], Value]:
    def apply(node: Node, ctx: MPContext, x: Value) -> Value:
        if x <= 0:
            raise Undefined(node, "takes the log of a number that is not positive")
        return ctx.log(x, base)

    return apply


def _fn_sign(node: Node, ctx: MPContext, x: Value) -> Value:
    if x > 0:
        return ctx.one
    if x < 0:
        return -ctx.one
    return ctx.zero


def _fn_asin(node: Node, ctx: MPContext, x: Value) -> Value:
    if abs(x) > 1:
        raise Undefined(node, "takes asin of a number outside [-1, 1]")
    return ctx.asin(x)


def _fn_acos(node: Node, ctx: MPContext, x: Value) -> Value:
    if abs(x) > 1:
        raise Undefined(node, "takes acos of a number outside [-1, 1]")
    return ctx.acos(x)


def _fn_acosh(node: Node, ctx: MPContext, x: Value) -> Value:
    if x < 1:
        raise Undefined(node, "takes acosh of a number below 1")
    return ctx.acosh(x)


def _fn_atanh(node: Node, ctx: MPContext, x: Value) -> Value:
    if abs(x) >= 1:
        raise Undefined(node, "takes atanh of a number outside (-1, 1)")
    return ctx.atanh(x)


def _fn_sigmoid(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    return 1 / (1 + ctx.exp(-x))


def _fn_softplus(node: Node, ctx: MPContext, x: Value) -> Value:
    _guard_argument(node, x)
    if x > 0:
        return x + ctx.log1p(ctx.exp(-x))
    return ctx.log1p(ctx.exp(x))


def _fn_relu(node: Node, ctx: MPContext, x: Value) -> Value:
    return x if x > 0 else ctx.zero


def _fn_logit(node: Node, ctx: MPContext, x: Value) -> Value:
    if not 0 < x < 1:
        raise Undefined(node, "takes logit of a number outside (0, 1)")
    return ctx.log(x / (1 - x))


def _fn_plain(name: str) -> Callable[[Node, MPContext, Value], Value]:
    """``ctx.<name>``, for functions defined and bounded on the whole real line."""

    def apply(node: Node, ctx: MPContext, x: Value) -> Value:
        return getattr(ctx, name)(x)

    return apply


UNARY: dict[str, Callable[[Node, MPContext, Value], Value]] = {
    "exp": _fn_exp,
    "log": _fn_log,
    "sqrt": _fn_sqrt,
    "abs": lambda node, ctx, x: abs(x),
    "sin": _fn_guarded("sin"),
    "cos": _fn_guarded("cos"),
    "tan": _fn_tan,
    "sec": _fn_reciprocal("cos"),
    "csc": _fn_reciprocal("sin"),
    "cot": _fn_cot,
    "asin": _fn_asin,
    "acos": _fn_acos,
    "atan": _fn_plain("atan"),
    "sinh": _fn_guarded("sinh"),
    "cosh": _fn_guarded("cosh"),
    "tanh": _fn_plain("tanh"),
    "sech": _fn_reciprocal("cosh"),
    "csch": _fn_reciprocal("sinh"),
    "coth": _fn_coth,
    "log10": _fn_log_base(10),
    "log2": _fn_log_base(2),
    "sign": _fn_sign,
    "asinh": _fn_plain("asinh"),
    "acosh": _fn_acosh,
    "atanh": _fn_atanh,
    "sigmoid": _fn_sigmoid,
    "softplus": _fn_softplus,
    "relu": _fn_relu,
    "logit": _fn_logit,
}


def power(node: Node, ctx: MPContext, base: Value, exponent: Value) -> Value:
    """``base ** exponent`` over the reals, refusing results we could not use."""
    if not base:
        if exponent > 0:
            return ctx.zero
        if exponent == 0:
            return ctx.one
        raise Undefined(node, "divides by zero")
    integral = exponent == ctx.floor(exponent)
    if base < 0 and not integral:
        raise Undefined(node, "raises a negative number to a fractional power")
    bits = abs(exponent) * max(1, abs(ctx.mag(base)))
    if bits > MAX_MAGNITUDE_BITS:
        raise Overflow(node, "is too large")
    if integral:
        return base ** int(exponent)
    return base**exponent


def compile_node(node: Node) -> Compiled:
    """Compile a scalar tree into a closure ``f(env) -> mpf``."""
    op = node.op
    if op == "num":
        value = node.value
        assert isinstance(value, Fraction)
        numerator, denominator = value.numerator, value.denominator
        converted: dict[MPContext, Value] = {}

        def number(env: Env) -> Value:
            ctx = env.ctx
            if ctx not in converted:
                converted[ctx] = ctx.mpf(numerator) / denominator
            return converted[ctx]

        return number
    if op == "name":
        name = str(node.value)

        def variable(env: Env) -> Value:
            if name in env.values:
                return env.values[name]
            if name in env.cache:
                return env.cache[name]
            body = env.definitions.get(name)
            if body is None:
                raise Undefined(node, f"uses {name}, which has no value")
            value = body(env)
            env.cache[name] = value
            return value

        return variable
    if op == "const":
        if node.value == "pi":
            return lambda env: +env.ctx.pi
        return lambda env: +env.ctx.e
    if op == "group":
        return compile_node(node.args[0])
    if op == "neg":
        inner = compile_node(node.args[0])
        return lambda env: -inner(env)
    if op == "add":
        return _compile_add(node)
    if op == "mul":
        return _compile_mul(node)
    if op == "pow":
        return _compile_pow(node)
    if op == "call":
        return _compile_call(node)
    raise ValueError(f"cannot evaluate a {op} node as a scalar")


def _compile_add(node: Node) -> Compiled:
    terms = [compile_node(arg) for arg in node.args]
    signs = tuple(node.value)
    pairs = list(zip(signs, terms, strict=True))

    (first_sign, first), *rest = pairs

    def add(env: Env) -> Value:
        total = first(env)
        if first_sign < 0:
            total = -total
        for sign, term in rest:
            if sign > 0:
                total += term(env)
            else:
                total -= term(env)
        return total  # sums of finite values stay finite and grow by a bit at most

    return add


def _compile_mul(node: Node) -> Compiled:
    factors = [compile_node(arg) for arg in node.args]
    pairs = list(zip(tuple(node.value), factors, node.args, strict=True))

    (_, first, _), *rest = pairs  # the first factor is never a divisor

    def mul(env: Env) -> Value:
        product = first(env)
        for how, factor, arg in rest:
            value = factor(env)
            if how == "/":
                if not value:
                    raise Undefined(arg, "divides by zero")
                product /= value
            else:
                product *= value
        return _checked(node, product)

    return mul


def _compile_pow(node: Node) -> Compiled:
    base_node, exponent_node = node.args
    exponent = compile_node(exponent_node)
    if base_node.unwrap().op == "const" and base_node.unwrap().value == "e":

        def exp(env: Env) -> Value:
            return _checked(node, _fn_exp(node, env.ctx, exponent(env)))

        return exp
    base = compile_node(base_node)
    integer = constant_integer(exponent_node)
    if integer is not None:
        n = integer

        def int_pow(env: Env) -> Value:
            value = base(env)
            _, mantissa, exponent_bits, bits = value._mpf_
            if not mantissa:
                if n > 0:
                    return env.ctx.zero
                if n == 0:
                    return env.ctx.one
                raise Undefined(node, "divides by zero")
            if abs(n) * max(1, abs(exponent_bits + bits)) > MAX_MAGNITUDE_BITS:
                raise Overflow(node, "is too large")
            return _checked(node, value**n)

        return int_pow

    def pow_(env: Env) -> Value:
        return _checked(node, power(node, env.ctx, base(env), exponent(env)))

    return pow_


def constant_integer(node: Node) -> int | None:
    """The node's value as a Python int when it is a constant integer of bounded size
    (an exponent, the common case); else None."""
    if node.has_names:
        return None
    try:
        value = exact_value(node)
    except EvaluationError:
        return None
    if value is None or value.denominator != 1 or abs(value.numerator) > MAX_EXPONENT:
        return None
    return value.numerator


def _compile_call(node: Node) -> Compiled:
    name = str(node.value)
    args = [compile_node(arg) for arg in node.args]
    if name in ("max", "min"):
        pick = max if name == "max" else min
        return lambda env: pick(arg(env) for arg in args)
    function = UNARY[name]
    (arg,) = args

    def call(env: Env) -> Value:
        return _checked(node, function(node, env.ctx, arg(env)))

    return call


def exact_value(node: Node) -> Fraction | None:
    """The exact rational value of a constant tree, or ``None`` if it is not rational.

    Only ``+ - * /`` and integer powers are folded, with the size of every
    intermediate bounded, so this is always fast.

    Raises:
        Undefined: on division by zero.
        Overflow: when a number would exceed the size limits.
    """
    op = node.op
    if op == "num":
        value = node.value
        assert isinstance(value, Fraction)
        return value
    if op == "group":
        return exact_value(node.args[0])
    if op == "neg":
        inner = exact_value(node.args[0])
        return None if inner is None else -inner
    if op == "add":
        total = Fraction(0)
        for sign, arg in zip(tuple(node.value), node.args, strict=True):
            term = exact_value(arg)
            if term is None:
                return None
            total = total + term if sign > 0 else total - term
        return _bounded(node, total)
    if op == "mul":
        product = Fraction(1)
        for how, arg in zip(tuple(node.value), node.args, strict=True):
            factor = exact_value(arg)
            if factor is None:
                return None
            if how == "/":
                if factor == 0:
                    raise Undefined(arg, "divides by zero")
                product /= factor
            else:
                product *= factor
        return _bounded(node, product)
    if op == "pow":
        base = exact_value(node.args[0])
        exponent = exact_value(node.args[1])
        if base is None or exponent is None or exponent.denominator != 1:
            return None
        n = exponent.numerator
        if base == 0:
            if n < 0:
                raise Undefined(node, "divides by zero")
            return Fraction(1) if n == 0 else Fraction(0)
        if abs(n) > MAX_EXPONENT:
            raise Overflow(node, "is too large")
        digits = max(len(str(base.numerator)), len(str(base.denominator)))
        if abs(n) * max(digits - 1, 1) > MAX_CONSTANT_DIGITS * 2:
            raise Overflow(node, "is too large")
        return _bounded(node, base**n)
    return None


def _bounded(node: Node, value: Fraction) -> Fraction:
    limit = MAX_CONSTANT_DIGITS * 10 // 3  # digits to bits, roughly
    if value.numerator.bit_length() > limit or value.denominator.bit_length() > limit:
        raise Overflow(node, "is too large")
    return value
