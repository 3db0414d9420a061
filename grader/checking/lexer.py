"""Tokenizer: text to tokens, each with its 0-based offset in the original string.

Unicode is handled character by character (no NFKC, which would turn ``x²`` into
``x2``): ``×``/``·`` multiply, ``−`` is minus, ``≤``/``≥`` compare, superscript digits
are powers, Greek letters are names, full-width digits and signs (``（``, ``＋``, typed with
East Asian input methods) are their ASCII selves, and look-alike letters (Cyrillic ``х``,
full-width ``ｘ``) are rejected with a message.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from typing import NamedTuple

from grader.checking.errors import ParseError
from grader.checking.limits import MAX_LENGTH
from grader.checking.limits import MAX_LITERAL_EXPONENT
from grader.checking.limits import MAX_NESTING
from grader.checking.names import GREEK_LETTERS
from grader.checking.names import LOOKALIKE_GREEK
from grader.checking.names import canonical_name

MINUS_SIGNS = frozenset("-−–‒﹣－")
TIMES_SIGNS = frozenset("*×·⋅∙")
DIVIDE_SIGNS = frozenset("/÷∕")
SPACES = frozenset(" \t\n\r\u00a0\u2009\u202f\u2002\u2003\u3000")
RELATIONS = {"<": "<", ">": ">", "≤": "<=", "≥": ">=", "⩽": "<=", "⩾": ">="}
"""Comparison signs as typed (``<=`` and ``>=`` are read as two characters)."""
SUPERSCRIPTS = {
    "⁰": "0",
    "¹": "1",
    "²": "2",
    "³": "3",
    "⁴": "4",
    "⁵": "5",
    "⁶": "6",
    "⁷": "7",
    "⁸": "8",
    "⁹": "9",
    "⁻": "-",
}
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\u061c\ufeff\u00ad"
)
_DIGITS = frozenset("0123456789")
_NUMBER = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+\-−]?[0-9]+))?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SUBSCRIPT = re.compile(r"_(?:\{([A-Za-z0-9]+)\}|([0-9]+)|([A-Za-z][A-Za-z0-9]*))")
_GREEK_TAIL = re.compile(r"[0-9]*")

_FULLWIDTH = {
    code: code - 0xFEE0
    for code in range(0xFF01, 0xFF5F)
    if not (0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A)
}
"""Full-width ASCII signs and digits, mapped one character to one (offsets stay)."""

_HINTS = {
    "√": "Type sqrt(...) for a square root.",
    "∞": "Infinity is not a valid answer.",
    "\\": "Type plain text like (a)/(b) and sqrt(x), not LaTeX commands.",
    "{": "Use round brackets ( ) for grouping.",
    "}": "Use round brackets ( ) for grouping.",
    "_": "An underscore can only start a subscript after a name, like w_1.",
    ";": "Give a single answer; ';' is not allowed.",
    "≠": "'Not equal' is not supported; write an equation or an inequality.",
    "!": "Factorials are not supported.",
    "%": "Write a percentage as a number: 5% is 0.05.",
    "±": "Give one value, not a ± pair.",
    "'": "Quotes and primes are not allowed.",
    '"': "Quotes are not allowed.",
}


class Token(NamedTuple):
    """One token (a named tuple: thousands are made per answer, so it must be cheap).

    Attributes:
        kind: ``num``, ``name``, ``op`` (``+ - * / ^``), ``sup`` (superscript power),
            ``rel`` (``< <= > >=``), ``(``, ``)``, ``[``, ``]``, ``,``, ``|``, ``=`` or
            ``end``.
        text: the characters as typed.
        start: 0-based offset of the first character.
        end: offset just past the last character.
        value: the exact value of a number, the canonical name, the operator (a
            relation in ASCII, ``≤`` is ``<=``), or the integer of a superscript.
    """

    kind: str
    text: str
    start: int
    end: int
    value: object = None


def _char_description(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".strip()


def screen(text: str) -> None:
    """Reject empty, overlong, invisible-character and too deeply nested input fast.

    Raises:
        ParseError: with the offset of the problem.
    """
    if not text.strip():
        raise ParseError("Your answer is empty.", 0)
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"Your answer is too long ({len(text)} characters; the limit is {MAX_LENGTH}).",
            MAX_LENGTH,
        )
    depth = 0
    for offset, ch in enumerate(text):
        code = ord(ch)
        if ch in _INVISIBLE or (code < 32 and ch not in "\t\n\r") or 127 <= code < 160:
            raise ParseError(
                f"Your answer contains an invisible control character "
                f"({_char_description(ch)}) at character {offset + 1}; please retype it.",
                offset,
            )
        if ch in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(
                    f"Your answer is nested too deeply (more than {MAX_NESTING} brackets "
                    "inside each other).",
                    offset,
                )
        elif ch in ")]":
            depth = max(0, depth - 1)


def _unexpected(ch: str, offset: int) -> ParseError:
    if ch in _HINTS:
        return ParseError(
            f"Unexpected '{ch}' at character {offset + 1}. {_HINTS[ch]}",
            offset,
        )
    name = unicodedata.name(ch, "")
    if "CYRILLIC" in name or ch in LOOKALIKE_GREEK or "FULLWIDTH" in name:
        return ParseError(
            f"The letter '{ch}' at character {offset + 1} looks like a Latin letter but is "
            f"a different character ({_char_description(ch)}); type it with a Latin "
            "keyboard layout.",
            offset,
        )
    if unicodedata.category(ch).startswith("L"):
        return ParseError(
            f"The letter '{ch}' at character {offset + 1} is not allowed; use the letters "
            "a-z and A-Z, Greek letters, or spelled-out Greek names like eta.",
            offset,
        )
    return ParseError(f"Unexpected character '{ch}' at character {offset + 1}.", offset)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token.

    Raises:
        ParseError: for any character that is not part of the language.
    """
    text = text.translate(_FULLWIDTH)
    screen(text)
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in SPACES:
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            tokens.append(_number(text, i))
            i = tokens[-1].end
            continue
        if ch.isascii() and ch.isalpha():
            match = _NAME.match(text, i)
            assert match is not None
            end = match.end()
            subscript = None
            sub = _SUBSCRIPT.match(text, end)
            if sub is not None:
                subscript = sub.group(1) or sub.group(2) or sub.group(3)
                end = sub.end()
            name = canonical_name(match.group(0), subscript)
            tokens.append(Token("name", text[i:end], i, end, name))
            i = end
            continue
        if ch in GREEK_LETTERS:
            tail = _GREEK_TAIL.match(text, i + 1)
            end = tail.end() if tail else i + 1
            subscript = text[i + 1 : end] or None
            sub = _SUBSCRIPT.match(text, end)
            if sub is not None and subscript is None:
                subscript = sub.group(1) or sub.group(2) or sub.group(3)
                end = sub.end()
            name = canonical_name(GREEK_LETTERS[ch], subscript)
            tokens.append(Token("name", text[i:end], i, end, name))
            i = end
            continue
        if ch in SUPERSCRIPTS:
            j = i
            while j < n and text[j] in SUPERSCRIPTS:
                j += 1
            digits = "".join(SUPERSCRIPTS[c] for c in text[i:j])
            if not re.fullmatch(r"-?[0-9]{1,5}", digits):
                raise ParseError(
                    f"The superscript at character {i + 1} is not a whole-number power.", i
                )
            tokens.append(Token("sup", text[i:j], i, j, int(digits)))
            i = j
            continue
        if ch == "*" and text.startswith("**", i):
            tokens.append(Token("op", "**", i, i + 2, "^"))
            i += 2
            continue
        if ch in MINUS_SIGNS:
            tokens.append(Token("op", ch, i, i + 1, "-"))
        elif ch == "+":
            tokens.append(Token("op", ch, i, i + 1, "+"))
        elif ch in TIMES_SIGNS:
            tokens.append(Token("op", ch, i, i + 1, "*"))
        elif ch in DIVIDE_SIGNS:
            tokens.append(Token("op", ch, i, i + 1, "/"))
        elif ch == "^":
            tokens.append(Token("op", ch, i, i + 1, "^"))
        elif ch in RELATIONS:
            relation = RELATIONS[ch]
            following = text[i + 1] if i + 1 < n else ""
            if ch in "<>" and following == "=":
                tokens.append(Token("rel", text[i : i + 2], i, i + 2, relation + "="))
                i += 2
                continue
            if ch == "<" and following == ">":
                raise ParseError(
                    f"'<>' at character {i + 1} is not supported: 'not equal' cannot be an answer.",
                    i,
                )
            tokens.append(Token("rel", ch, i, i + 1, relation))
        elif ch == "=" and i + 1 < n and text[i + 1] in "<>=":
            following = text[i + 1]
            if following == "=":
                raise ParseError(f"Use a single '=' (character {i + 1}), not '=='.", i)
            raise ParseError(f"Write {following}= instead of ={following} (character {i + 1}).", i)
        elif ch == "!" and text.startswith("!=", i):
            raise ParseError(
                f"'!=' at character {i + 1} is not supported: 'not equal' cannot be an answer.",
                i,
            )
        elif ch in "()[],|=":
            tokens.append(Token(ch, ch, i, i + 1, ch))
        else:
            raise _unexpected(ch, i)
        i += 1
    tokens.append(Token("end", "", n, n, None))
    return tokens


def _number(text: str, start: int) -> Token:
    match = _NUMBER.match(text, start)
    assert match is not None
    raw = match.group(0)
    exponent = match.group(2)
    if exponent is not None:
        exponent = exponent.replace("−", "-")
        if abs(int(exponent)) > MAX_LITERAL_EXPONENT:
            raise ParseError(
                f"The number at character {start + 1} is too large or too small "
                f"(powers of ten beyond {MAX_LITERAL_EXPONENT} are not accepted).",
                start,
            )
        mantissa = match.group(1)
        value = Fraction(mantissa) * Fraction(10) ** int(exponent)
    else:
        value = Fraction(raw)
    return Token("num", raw, start, match.end(), value)
