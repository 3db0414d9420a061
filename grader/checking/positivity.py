"""Which signs an expression can take, read from its structure (never from samples).

An equation may be multiplied by a factor that is defined everywhere on the domain and
never zero without changing its solutions (``s^2 exp(s t) = 0`` is ``s^2 = 0``). Whether
a factor is such is decided here by rules, because sampling cannot show it: ``(x - 0.001)^2``
is positive at every random point and still vanishes at 0.001, and ``exp(1/x)`` is never
zero but undefined at 0, where a solution could be lost.

A :class:`Fact` is the set of signs (``+``, ``0``, ``-``) a value can have and whether it
is defined everywhere on the domain. The rules are the obvious ones: ``exp``, ``e^u``,
``sigmoid``, ``softplus``, ``cosh`` and positive constants are positive; a sum of
non-negative terms with a positive one is positive; a product's signs are the products
of its factors'; an even power of something never zero is positive; a division, a log,
a root or a fractional power is defined everywhere only when what it needs is guaranteed.
Anything else can be anything.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import exact_value
from grader.checking.nodes import Node
from grader.checking.sampling import Domain

POSITIVE = frozenset("+")
NEGATIVE = frozenset("-")
ZERO = frozenset("0")
NONNEGATIVE = frozenset("+0")
ANY = frozenset("+0-")


@dataclass(frozen=True)
class Fact:
    """The signs a value can take, and whether it is defined everywhere on the domain."""

    signs: frozenset[str]
    total: bool

    @property
    def nonvanishing(self) -> bool:
        """Defined everywhere and never zero."""
        return self.total and "0" not in self.signs


def _flip(signs: frozenset[str]) -> frozenset[str]:
    return frozenset({"+": "-", "-": "+", "0": "0"}[s] for s in signs)


def _times(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    out = set()
    for x in a:
        for y in b:
            if "0" in (x, y):
                out.add("0")
            else:
                out.add("+" if x == y else "-")
    return frozenset(out)


def _even(signs: frozenset[str]) -> frozenset[str]:
    out = {"+"} if signs & {"+", "-"} else set()
    if "0" in signs:
        out.add("0")
    return frozenset(out)


def _domain_signs(domain: Domain) -> frozenset[str]:
    closed_low = domain.label.startswith("[") or domain.label == "nonnegative"
    closed_high = domain.label.endswith("]") or domain.label == "nonpositive"
    if domain.low > 0 or (domain.low == 0 and not closed_low):
        return POSITIVE
    if domain.low == 0:
        return NONNEGATIVE
    if domain.high < 0 or (domain.high == 0 and not closed_high):
        return NEGATIVE
    if domain.high == 0:
        return frozenset("-0")
    return ANY


_POSITIVE_FUNCTIONS = frozenset({"exp", "sigmoid", "softplus", "cosh", "sech"})
_ODD_TOTAL = frozenset({"tanh", "atan", "asinh", "sinh", "sign"})
_TOTAL = frozenset({"sin", "cos"})


def fact(node: Node, domains: Mapping[str, Domain], definitions: Mapping[str, Node]) -> Fact:
    """What the structure of ``node`` guarantees about its sign and definedness."""
    return _fact(node, domains, definitions, 0)


def _fact(
    node: Node, domains: Mapping[str, Domain], definitions: Mapping[str, Node], depth: int
) -> Fact:
    if depth > 40:
        return Fact(ANY, False)

    def sub(child: Node) -> Fact:
        return _fact(child, domains, definitions, depth + 1)

    op = node.op
    if op == "num":
        value = node.value
        return Fact(POSITIVE if value > 0 else NEGATIVE if value < 0 else ZERO, True)
    if op == "const":
        return Fact(POSITIVE, True)
    if op == "name":
        name = str(node.value)
        if name in definitions:
            return sub(definitions[name])
        domain = domains.get(name)
        return Fact(ANY if domain is None else _domain_signs(domain), True)
    if op == "group":
        return sub(node.args[0])
    if op == "neg":
        inner = sub(node.args[0])
        return Fact(_flip(inner.signs), inner.total)
    if op == "add":
        terms = [sub(arg) for arg in node.args]
        signed = [
            t.signs if sign > 0 else _flip(t.signs)
            for sign, t in zip(node.value, terms, strict=True)
        ]
        total = all(t.total for t in terms)
        if all(s <= NONNEGATIVE for s in signed):
            return Fact(POSITIVE if any(s == POSITIVE for s in signed) else NONNEGATIVE, total)
        if all(s <= frozenset("-0") for s in signed):
            return Fact(NEGATIVE if any(s == NEGATIVE for s in signed) else frozenset("-0"), total)
        return Fact(ANY, total)
    if op == "mul":
        signs = POSITIVE
        total = True
        for how, arg in zip(node.value, node.args, strict=True):
            factor = sub(arg)
            total = total and factor.total
            if how == "/":
                total = total and "0" not in factor.signs
                signs = _times(signs, factor.signs - ZERO or POSITIVE)
            else:
                signs = _times(signs, factor.signs)
        return Fact(signs, total)
    if op == "pow":
        return _power(node, sub)
    if op == "call":
        return _call(node, sub)
    return Fact(ANY, False)


def _power(node: Node, sub: Callable[[Node], Fact]) -> Fact:
    base_node, exponent_node = node.args
    base = sub(base_node)
    exponent = None
    if not exponent_node.has_names:
        try:
            exponent = exact_value(exponent_node)
        except EvaluationError:
            return Fact(ANY, False)
    if exponent is None:
        if base.signs == POSITIVE:
            return Fact(POSITIVE, base.total and sub(exponent_node).total)
        return Fact(ANY, False)
    if exponent.denominator == 1:
        n = exponent.numerator
        if n == 0:
            return Fact(POSITIVE, base.total)
        signs = _even(base.signs) if n % 2 == 0 else base.signs
        total = base.total and (n > 0 or "0" not in base.signs)
        return Fact(signs, total)
    if base.signs == POSITIVE:
        return Fact(POSITIVE, base.total)
    if base.signs <= NONNEGATIVE and exponent > 0:
        return Fact(base.signs, base.total)
    return Fact(ANY, False)


def _call(node: Node, sub: Callable[[Node], Fact]) -> Fact:
    name = str(node.value)
    args = [sub(arg) for arg in node.args]
    total = all(a.total for a in args)
    if name in _POSITIVE_FUNCTIONS:
        return Fact(POSITIVE, total)
    (arg, *_) = args
    if name == "abs":
        return Fact(_even(arg.signs), total)
    if name == "relu":
        signs = {"+"} if "+" in arg.signs else set()
        if arg.signs & {"0", "-"}:
            signs.add("0")
        return Fact(frozenset(signs), total)
    if name == "sqrt":
        if arg.signs <= NONNEGATIVE:
            return Fact(arg.signs, total)
        return Fact(NONNEGATIVE, False)
    if name in ("log", "log10", "log2"):
        return Fact(ANY, total and arg.signs == POSITIVE)
    if name in _ODD_TOTAL:
        return Fact(arg.signs, total)
    if name in _TOTAL or name in ("max", "min"):
        return Fact(ANY, total)
    return Fact(ANY, False)
