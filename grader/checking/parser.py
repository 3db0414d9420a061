"""Recursive-descent parser: tokens to a :class:`Node` tree, with every limit enforced.

Grammar (lowest precedence first)::

    answer  := list | expr [('=' | relation) expr]     relation: < <= > >= (≤ ≥)
    expr    := ['+'|'-'] term (('+'|'-') term)*
    term    := factor (('*'|'/') factor | implicit)*
    factor  := ['+'|'-'] power
    power   := postfix ('^' ['+'|'-'] postfix)*          right-associative
    postfix := atom superscript*
    atom    := number | name | function '(' args ')' | '(' expr ')' | '|' expr '|'

Implicit multiplication, the one rule: two factors written next to each other multiply
(``2x``, ``2(x+1)``, ``(a+b)(c+d)``, ``x y``), unless the second one is a number
(``x2`` is a name, ``x 2`` is an error). An unknown multi-letter name is split only
into a unique sequence of declared names (``w1x1`` is ``w1*x1``). As a base it reads
like those names written apart, so a power binds to the last of them (``w1x1^2`` is
``w1*x1^2``, as ``w1 x1^2`` is); as an exponent it stays whole (``e^-wx`` is
``e^(-w*x)``). A declared variable followed by ``(`` multiplies, it is never a function
call. ``σ(`` is the sigmoid.

An answer holds at most one ``=`` or comparison: ``a < b < c`` is refused with a message.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from grader.checking.errors import ParseError
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import compile_node
from grader.checking.evaluate import context
from grader.checking.lexer import Token
from grader.checking.lexer import tokenize
from grader.checking.limits import MAX_DEPTH
from grader.checking.limits import MAX_EXPONENT
from grader.checking.limits import MAX_NESTING
from grader.checking.limits import MAX_NODES
from grader.checking.limits import MAX_POWER_CHAIN
from grader.checking.names import CONSTANTS
from grader.checking.names import FUNCTION_ALIASES
from grader.checking.names import FUNCTIONS
from grader.checking.names import resolve_function
from grader.checking.names import split_name
from grader.checking.names import suggest
from grader.checking.nodes import Node
from grader.checking.render import to_text

_FUNCTION_WORDS = frozenset(FUNCTIONS) | frozenset(FUNCTION_ALIASES)
_CONFUSIONS = {"In": "ln", "lg": "log"}
_NOT_NUMBERS = frozenset({"nan", "inf", "infty", "infinity", "oo"})
"""Reserved even when any name is allowed: junk gets a specific message (PrairieLearn)."""
"""Misspellings too far from the function for a similarity match (STACK's "In")."""


_POWER_NOTATION = frozenset(
    {"sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "sech", "csch", "coth"}
    | {"log", "log10", "log2"}
)
"""Functions whose square may be written ``sin^2(x)``: read as ``sin(x)^2``, with a note."""

_FUNCTION_POWER = "function"
"""``value`` of a power node written as ``sin^2(x)``."""

_SPLIT = "split"
"""``text`` of the product node made by splitting one typed name (``w1x1``)."""


def _at(offset: int) -> str:
    return f"at character {offset + 1}"


class _Parser:
    def __init__(
        self,
        text: str,
        known: frozenset[str] | None,
        functions: frozenset[str] | None,
    ) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.known = known
        self.functions = functions
        self.count = 0
        self.nesting = 0
        self.abs_depth = 0

    # -- token helpers -------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        if ahead:
            return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]
        return self.tokens[self.pos]  # never past the end token, which is never consumed

    def previous(self) -> Token | None:
        return self.tokens[self.pos - 1] if self.pos > 0 else None

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, token: Token, *ops: str) -> bool:
        return token.kind == "op" and token.value in ops

    def node(
        self,
        op: str,
        args: tuple[Node, ...] = (),
        value: object = None,
        start: int = 0,
        end: int = 0,
        at: int | None = None,
        text: str = "",
    ) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise ParseError(
                f"Your answer is too long or complicated (more than {MAX_NODES} parts).",
                start,
            )
        depth = 1 + max((arg.depth for arg in args), default=0)
        if depth > MAX_DEPTH:
            raise ParseError("Your answer is nested too deeply.", start)
        has_names = op == "name" or any(arg.has_names for arg in args)
        return Node(
            op=op,
            args=args,
            value=value,
            start=start,
            end=end,
            at=start if at is None else at,
            text=text,
            depth=depth,
            has_names=has_names,
        )

    def enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ParseError(
                f"Your answer is nested too deeply (more than {MAX_NESTING} levels).",
                token.start,
            )

    def unexpected(self, token: Token) -> ParseError:
        prev = self.previous()
        where = _at(token.start)
        if token.kind == "end":
            if prev is None:
                return ParseError("Your answer is empty.", 0)
            return ParseError(
                f"Your answer ends too early: something is missing after '{prev.text}'.",
                prev.start,
            )
        if token.kind == ")":
            return ParseError(
                f"Unmatched closing bracket ')' {where}."
                if self.nesting == 0
                else f"Something is missing before ')' {where}.",
                token.start,
            )
        if token.kind == "]":
            return ParseError(f"Unexpected ']' {where}.", token.start)
        if token.kind == ",":
            following = self.peek(1)
            if prev is not None and prev.kind == "num" and following.kind == "num":
                return ParseError(
                    f"Use a decimal point, not a comma {where}: write "
                    f"{prev.text}.{following.text}, not {prev.text},{following.text}.",
                    token.start,
                )
            return ParseError(
                f"Unexpected ',' {where}. Commas only separate the entries of a list "
                "[a, b] or the arguments of max(a, b).",
                token.start,
            )
        if token.kind == "=":
            return ParseError(f"Unexpected '=' {where}.", token.start)
        if token.kind == "rel":
            return ParseError(
                f"The comparison '{token.text}' {where} can only join the two sides of the "
                "whole answer.",
                token.start,
            )
        if token.kind == "[" and prev is not None and prev.kind == "name":
            return ParseError(
                f"Square brackets are for lists {where}; for a subscript write "
                f"{prev.text}_2, not {prev.text}[2].",
                token.start,
            )
        if token.kind == "[":
            return ParseError(
                f"A list [ ... ] can only be the whole answer, not part of an expression "
                f"({where}).",
                token.start,
            )
        if token.kind == "sup":
            return ParseError(f"The superscript {where} has nothing before it.", token.start)
        if token.kind == "|":
            return ParseError(f"Unexpected '|' {where}.", token.start)
        if token.kind == "op":
            if prev is not None and prev.kind == "op":
                return ParseError(
                    f"'{token.text}' cannot follow '{prev.text}' ({where}).", token.start
                )
            if prev is None or prev.kind in ("(", "[", ",", "|", "="):
                return ParseError(f"'{token.text}' {where} has nothing before it.", token.start)
            return ParseError(f"Unexpected '{token.text}' {where}.", token.start)
        return ParseError(f"Unexpected '{token.text}' {where}.", token.start)

    # -- grammar -------------------------------------------------------------------

    def parse(self) -> Node:
        if self.peek().kind == "[":
            root = self.parse_list(level=1)
        else:
            root = self.parse_expression()
            if self.peek().kind in ("=", "rel"):
                sign = self.advance()
                if self.peek().kind == "end":
                    what = "equation" if sign.kind == "=" else "inequality"
                    raise ParseError(
                        f"The {what} has nothing after '{sign.text}' {_at(sign.start)}.",
                        sign.start,
                    )
                rhs = self.parse_expression()
                if sign.kind == "=":
                    root = self.node("eq", (root, rhs), None, root.start, rhs.end, sign.start)
                else:
                    root = self.node(
                        "rel", (root, rhs), sign.value, root.start, rhs.end, sign.start, sign.text
                    )
        token = self.peek()
        if token.kind != "end":
            if token.kind in ("=", "rel") and root.op in ("eq", "rel"):
                raise ParseError(
                    f"Only one '=' or comparison is allowed in an answer ({_at(token.start)}); "
                    "chains like 1 < x < 3 are not supported.",
                    token.start,
                )
            raise self.unexpected(token)
        return root

    def parse_list(self, level: int) -> Node:
        opening = self.advance()
        self.enter(opening)
        if self.peek().kind == "]":
            raise ParseError(f"The list {_at(opening.start)} is empty.", opening.start)
        items: list[Node] = []
        while True:
            if self.peek().kind == "[":
                if level >= 2:
                    raise ParseError(
                        "Lists can be nested only two deep (a matrix is a list of rows); "
                        f"see {_at(self.peek().start)}.",
                        self.peek().start,
                    )
                items.append(self.parse_list(level + 1))
            else:
                items.append(self.parse_expression())
            token = self.peek()
            if token.kind == ",":
                self.advance()
                continue
            if token.kind == "]":
                closing = self.advance()
                break
            if token.kind == "end":
                raise ParseError(
                    f"The bracket '[' {_at(opening.start)} is never closed.", opening.start
                )
            raise self.unexpected(token)
        self.nesting -= 1
        rows = [item for item in items if item.op == "list"]
        if rows and len(rows) != len(items):
            bad = next(item for item in items if item.op != "list")
            raise ParseError(
                f"A matrix must be a list of rows like [[a, b], [c, d]]; the entry "
                f"{_at(bad.start)} is not a row.",
                bad.start,
            )
        if rows:
            width = len(rows[0].args)
            for index, row in enumerate(rows[1:], start=2):
                if len(row.args) != width:
                    raise ParseError(
                        f"All rows of a matrix must have the same length: row {index} has "
                        f"{len(row.args)} entr{'y' if len(row.args) == 1 else 'ies'} but row 1 "
                        f"has {width}.",
                        row.start,
                    )
            return self.node("matrix", tuple(items), None, opening.start, closing.end)
        return self.node("list", tuple(items), None, opening.start, closing.end)

    def parse_expression(self) -> Node:
        start = self.peek().start
        terms: list[Node] = []
        signs: list[int] = []
        sign = 1
        if self.is_op(self.peek(), "+", "-"):
            sign = -1 if self.advance().value == "-" else 1
        terms.append(self.parse_term())
        signs.append(sign)
        while self.is_op(self.peek(), "+", "-"):
            operator = self.advance()
            if self.peek().kind == "end":
                raise ParseError(
                    f"'{operator.text}' {_at(operator.start)} has nothing after it.",
                    operator.start,
                )
            terms.append(self.parse_term())
            signs.append(-1 if operator.value == "-" else 1)
        if len(terms) == 1:
            if sign > 0:
                return terms[0]
            return self.node("neg", (terms[0],), None, start, terms[0].end)
        return self.node("add", tuple(terms), tuple(signs), start, terms[-1].end)

    def parse_term(self) -> Node:
        factors = [self.parse_factor()]
        how = ["*"]
        while True:
            token = self.peek()
            if self.is_op(token, "*", "/"):
                self.advance()
                if self.peek().kind == "end":
                    raise ParseError(
                        f"'{token.text}' {_at(token.start)} has nothing after it.", token.start
                    )
                factors.append(self.parse_factor())
                how.append(str(token.value))
            elif token.kind in ("name", "(") or (token.kind == "|" and self.abs_depth == 0):
                factors.append(self.parse_power())
                how.append("imp")
            elif token.kind == "num":
                prev = self.previous()
                if prev is not None and prev.kind == "num":
                    message = (
                        f"Two numbers are next to each other {_at(token.start)}; "
                        "use * to multiply them."
                    )
                else:
                    message = (
                        f"A number cannot directly follow '{prev.text if prev else ''}' "
                        f"({_at(token.start)}); use * to multiply or ^ for a power."
                    )
                raise ParseError(message, token.start)
            elif token.kind == "[":
                raise self.unexpected(token)
            else:
                break
        if len(factors) == 1:
            return factors[0]
        return self.node("mul", tuple(factors), tuple(how), factors[0].start, factors[-1].end)

    def parse_factor(self) -> Node:
        token = self.peek()
        if self.is_op(token, "+", "-"):
            self.advance()
            following = self.peek()
            if self.is_op(following, "+", "-"):
                raise ParseError(
                    f"Too many signs in a row {_at(following.start)}.", following.start
                )
            if following.kind == "end":
                raise ParseError(
                    f"'{token.text}' {_at(token.start)} has nothing after it.", token.start
                )
            inner = self.parse_power()
            if token.value == "+":
                return inner
            return self.node("neg", (inner,), None, token.start, inner.end)
        return self.parse_power()

    def parse_power(self) -> Node:
        bases = [self.parse_postfix()]
        signs: list[tuple[int, int]] = []  # (sign, offset of the sign)
        carets: list[Token] = []
        while self.is_op(self.peek(), "^"):
            caret = self.advance()
            if len(carets) >= MAX_POWER_CHAIN:
                raise ParseError(
                    f"Too many powers in a row {_at(caret.start)}; use brackets, "
                    "like (a^b)^c or a^(b^c).",
                    caret.start,
                )
            sign = (1, caret.end)
            if self.is_op(self.peek(), "+", "-"):
                sign_token = self.advance()
                sign = (-1 if sign_token.value == "-" else 1, sign_token.start)
                if self.is_op(self.peek(), "+", "-"):
                    raise ParseError(
                        f"Too many signs in a row {_at(self.peek().start)}.",
                        self.peek().start,
                    )
            if self.peek().kind == "end":
                raise ParseError(
                    f"'{caret.text}' {_at(caret.start)} has nothing after it.", caret.start
                )
            carets.append(caret)
            signs.append(sign)
            bases.append(self.parse_postfix())
        result = bases[-1]
        for j in range(len(carets), 0, -1):
            direction, sign_at = signs[j - 1]
            if direction < 0:
                result = self.node("neg", (result,), None, sign_at, result.end)
            result = self.power(bases[j - 1], result, "^", carets[j - 1].start)
        return result

    def parse_postfix(self) -> Node:
        atom = self.parse_atom()
        while self.peek().kind == "sup":
            sup = self.advance()
            exponent = self.node(
                "num", (), Fraction(int(str(sup.value))), sup.start, sup.end, text=sup.text
            )
            atom = self.power(atom, exponent, "sup", sup.start)
        return atom

    def power(self, base: Node, exponent: Node, how: str, at: int) -> Node:
        """``base ^ exponent``; on a split name (``xy``) the power binds to its last name."""
        if base.op == "mul" and base.text == _SPLIT:
            *head, last = base.args
            raised = self.node("pow", (last, exponent), how, last.start, exponent.end, at)
            return self.node(
                "mul", (*head, raised), base.value, base.start, exponent.end, text=_SPLIT
            )
        return self.node("pow", (base, exponent), how, base.start, exponent.end, at)

    def parse_atom(self) -> Node:
        token = self.peek()
        if token.kind == "num":
            self.advance()
            return self.node("num", (), token.value, token.start, token.end, text=token.text)
        if token.kind == "name":
            return self.parse_name()
        if token.kind == "(":
            return self.parse_group()
        if token.kind == "|":
            return self.parse_bars()
        raise self.unexpected(token)

    def parse_group(self) -> Node:
        opening = self.advance()
        self.enter(opening)
        if self.peek().kind == ")":
            raise ParseError(f"Empty brackets {_at(opening.start)}.", opening.start)
        outer_abs, self.abs_depth = self.abs_depth, 0
        inner = self.parse_expression()
        self.abs_depth = outer_abs
        token = self.peek()
        if token.kind != ")":
            if token.kind == "end":
                raise ParseError(
                    f"The bracket '(' {_at(opening.start)} is never closed.", opening.start
                )
            raise self.unexpected(token)
        closing = self.advance()
        self.nesting -= 1
        return self.node("group", (inner,), None, opening.start, closing.end)

    def parse_bars(self) -> Node:
        opening = self.advance()
        self.enter(opening)
        if self.peek().kind == "|":
            raise ParseError(f"Empty absolute value bars {_at(opening.start)}.", opening.start)
        self.abs_depth += 1
        inner = self.parse_expression()
        self.abs_depth -= 1
        token = self.peek()
        if token.kind != "|":
            if token.kind == "end":
                raise ParseError(
                    f"The bar '|' {_at(opening.start)} is never closed.", opening.start
                )
            raise self.unexpected(token)
        closing = self.advance()
        self.nesting -= 1
        return self.node("call", (inner,), "abs", opening.start, closing.end, text="|")

    def parse_name(self) -> Node:
        token = self.advance()
        name = str(token.value)
        following = self.peek()
        known = self.known
        if token.text == "σ" and following.kind == "(":
            return self.parse_call(token, "sigmoid")
        if name.casefold() in _NOT_NUMBERS and (known is None or name not in known):
            raise ParseError(
                f"'{token.text}' {_at(token.start)} is not a number you can use in an answer: "
                "infinity and NaN are not valid answers.",
                token.start,
            )
        function = None if known is not None and name in known else resolve_function(name)
        if function is not None:
            if self.functions is not None and function not in self.functions:
                raise ParseError(
                    f"The function {token.text} is not allowed in this answer.", token.start
                )
            if following.kind == "(":
                return self.parse_call(token, function)
            if following.kind == "sup" or self.is_op(following, "^"):
                return self.function_power(token, function, following)
            raise ParseError(
                f"The function {token.text} needs brackets around its argument, like "
                f"{token.text}(x) ({_at(token.start)}).",
                token.start,
            )
        if known is None:
            if name in CONSTANTS:
                return self.node("const", (), name, token.start, token.end, text=token.text)
            if following.kind == "(" and len(name) > 1:
                close = suggest(name, _FUNCTION_WORDS)
                if close is not None:
                    raise ParseError(
                        f"Unknown function '{token.text}' {_at(token.start)}. "
                        f"Did you mean {close}?",
                        token.start,
                    )
            return self.node("name", (), name, token.start, token.end, text=token.text)
        if name in known:
            return self.node("name", (), name, token.start, token.end, text=token.text)
        if name in CONSTANTS:
            return self.node("const", (), name, token.start, token.end, text=token.text)
        splits = split_name(name, known)
        if len(splits) == 1:
            return self.split_node(token, splits[0])
        if len(splits) > 1:
            options = " or ".join("*".join(parts) for parts in splits)
            raise ParseError(
                f"'{token.text}' {_at(token.start)} is ambiguous: it could be {options}. "
                "Put * between the names.",
                token.start,
            )
        raise ParseError(self.unknown_message(token, following), token.start)

    def function_power(self, token: Token, function: str, caret: Token) -> Node:
        """``sin^2(x)`` (or ``sin²(x)``) read as ``sin(x)^2``, for the functions where
        that notation is usual; ``sin^-1(x)`` is refused as ambiguous."""
        if caret.kind == "sup":
            exponent_token, opening = caret, self.peek(1)
            power = int(str(caret.value))
        else:
            exponent_token, opening = self.peek(1), self.peek(2)
            if self.is_op(exponent_token, "-"):
                power = -1
            elif (
                exponent_token.kind == "num"
                and isinstance(exponent_token.value, Fraction)
                and exponent_token.value.denominator == 1
            ):
                power = int(exponent_token.value)
            else:
                power = 0
        if power < 0 and function in _POWER_NOTATION:
            raise ParseError(
                f"{token.text}^{power}(x) is ambiguous ({_at(caret.start)}): write "
                f"a{function}(x) for the inverse function or 1/{token.text}(x) for one over "
                f"{token.text}.",
                caret.start,
            )
        if function not in _POWER_NOTATION or not 1 <= power <= 99 or opening.kind != "(":
            raise ParseError(
                f"Write {token.text}(x)^2 instead of {token.text}^2(x) ({_at(caret.start)}).",
                caret.start,
            )
        self.pos += 1 if caret.kind == "sup" else 2
        call = self.parse_call(token, function)
        exponent = self.node(
            "num",
            (),
            Fraction(power),
            exponent_token.start,
            exponent_token.end,
            text=exponent_token.text,
        )
        return self.node(
            "pow",
            (call, exponent),
            _FUNCTION_POWER,
            token.start,
            call.end,
            caret.start,
            self.text[token.start : call.end],
        )

    def split_node(self, token: Token, parts: list[str]) -> Node:
        offset = token.start
        factors = []
        for part in parts:
            length = len(part) if token.text == token.value else 0
            factors.append(self.node("name", (), part, offset, offset + length, text=part))
            offset += length
        how = tuple(["*"] + ["imp"] * (len(parts) - 1))
        return self.node("mul", tuple(factors), how, token.start, token.end, text=_SPLIT)

    def unknown_message(self, token: Token, following: Token) -> str:
        name = str(token.value)
        known = self.known or frozenset()
        where = _at(token.start)
        if following.kind == "(":
            close = (
                _CONFUSIONS.get(name)
                or suggest(name, _FUNCTION_WORDS)
                or _one_letter_off(name, _FUNCTION_WORDS)
            )
            if close is not None:
                return f"Unknown function '{token.text}' {where}. Did you mean {close}?"
            message = (
                f"Unknown name '{token.text}' {where}: it is neither a function nor a "
                "variable of this answer."
            )
            if known and len(known) <= 12:
                return f"{message} The variables here are: {', '.join(sorted(known))}."
            return message
        message = f"Unknown variable '{token.text}' {where}."
        close = suggest(name, known | CONSTANTS)
        if close is not None and close.casefold() == name.casefold():
            return f"{message} Input is case sensitive: did you mean {close}?"
        for word in sorted(_FUNCTION_WORDS, key=len, reverse=True):
            rest = name[len(word) :]
            if name.startswith(word) and rest and (rest in known or rest.isdigit()):
                return f"{message} Did you mean {word}({rest})?"
        for candidate in sorted(known, key=len, reverse=True):
            rest = name[len(candidate) :]
            if name.startswith(candidate) and rest.isdigit():
                return f"{message} Did you mean {candidate}*{rest} or {candidate}^{rest}?"
        with_constants = split_name(name, known | CONSTANTS)
        if len(with_constants) == 1:
            return f"{message} Did you mean {'*'.join(with_constants[0])}?"
        if close is not None:
            return f"{message} Did you mean {close}?"
        if known and len(known) <= 12:
            return f"{message} The variables here are: {', '.join(sorted(known))}."
        return message

    def parse_call(self, token: Token, function: str) -> Node:
        opening = self.advance()
        self.enter(opening)
        spec = FUNCTIONS[function]
        if self.peek().kind == ")":
            raise ParseError(
                f"{token.text}() needs an argument ({_at(opening.start)}).", opening.start
            )
        outer_abs, self.abs_depth = self.abs_depth, 0
        args: list[Node] = []
        while True:
            args.append(self.parse_expression())
            following = self.peek()
            if following.kind == ",":
                self.advance()
                continue
            if following.kind == ")":
                break
            if following.kind == "end":
                raise ParseError(
                    f"The bracket '(' {_at(opening.start)} is never closed.", opening.start
                )
            raise self.unexpected(following)
        closing = self.advance()
        self.abs_depth = outer_abs
        self.nesting -= 1
        if not spec.min_args <= len(args) <= spec.max_args:
            if spec.max_args == 1:
                need = "exactly one argument"
            else:
                need = f"between {spec.min_args} and {spec.max_args} arguments"
            raise ParseError(
                f"{token.text} takes {need}, but {len(args)} were given ({_at(token.start)}).",
                token.start,
            )
        return self.node(
            "call", tuple(args), function, token.start, closing.end, token.start, token.text
        )


def reading_notes(root: Node) -> list[str]:
    """Sentences on notation we read in a particular way (``sin^2(x)`` as ``sin(x)^2``)."""
    notes = []
    for node in root.walk():
        if node.op == "pow" and node.value == _FUNCTION_POWER:
            notes.append(f"{node.text} was read as {to_text(node)}.")
    return notes


def _one_letter_off(name: str, words: frozenset[str]) -> str | None:
    """The one function name that differs from ``name`` in a single letter (``sim``)."""
    if len(name) < 3:
        return None
    found = [
        word
        for word in words
        if len(word) == len(name) and sum(a != b for a, b in zip(word, name, strict=True)) == 1
    ]
    return found[0] if len(found) == 1 else None


def parse_tree(
    text: str,
    known: frozenset[str] | None = None,
    functions: frozenset[str] | None = None,
) -> Node:
    """Parse ``text`` into a validated tree.

    Args:
        text: the answer as typed.
        known: the names allowed as variables (declared variables and defined names);
            ``None`` accepts every name as a variable and never splits names.
        functions: the functions allowed; ``None`` allows all of them.

    Raises:
        ParseError: with a message and the offset of the problem.
    """
    parser = _Parser(text, known, functions)
    root = parser.parse()
    _validate_constants(root)
    return root


def _validate_constants(root: Node) -> None:
    """Reject constant parts that are undefined or huge, and huge constant exponents.

    Evaluating each maximal constant subtree once (with the overflow guards) catches
    ``1/0``, ``log(-1)``, ``sqrt(-1)``, ``9^9^9^9`` and ``10^10^10`` in milliseconds.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if node.op in ("list", "matrix", "eq", "rel"):
            stack.extend(node.args)
            continue
        if not node.has_names:
            _evaluate_constant(node)
            continue
        if node.op == "pow" and not node.args[1].has_names:
            exponent = _evaluate_constant(node.args[1])
            if abs(exponent) > MAX_EXPONENT:
                raise ParseError(
                    f"The exponent {_at(node.at)} is too large (the limit is {MAX_EXPONENT}).",
                    node.at,
                )
        stack.extend(node.args)


def _evaluate_constant(node: Node) -> Any:
    env = Env(context(20), {})
    try:
        return compile_node(node)(env)
    except Overflow as exc:
        culprit = exc.node
        raise ParseError(
            f"The number {_at(culprit.at)} is too large to work with.", culprit.at
        ) from None
    except EvaluationError as exc:
        culprit = exc.node
        if exc.reason == "divides by zero":
            raise ParseError(f"Division by zero {_at(culprit.at)}.", culprit.at) from None
        raise ParseError(
            f"{_snippet(culprit)} {_at(culprit.at)} is undefined: it {exc.reason}.", culprit.at
        ) from None


def _snippet(node: Node) -> str:
    if node.op == "call":
        return f"{node.text or node.value}(...)"
    if node.op == "pow":
        return "The power"
    return "The expression"
