"""Echo a parsed answer as LaTeX and as plain text, exactly as it was understood.

Every multiplication is shown (``\\cdot`` and ``*``), including implicit ones, so
``2x`` echoes as ``2 \\cdot x`` and ``xe^x`` shows whether ``e`` was the base. Typed
brackets are kept; none are added except around a negative factor.
"""

from __future__ import annotations

import re

from grader.checking.names import FUNCTIONS
from grader.checking.names import GREEK_NAMES
from grader.checking.nodes import Node

_SCIENTIFIC = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE]([+\-−]?[0-9]+)$")
_TRAILING_DIGITS = re.compile(r"^([A-Za-z]+?)([0-9]+)$")


def latex_name(name: str) -> str:
    """LaTeX for a variable name: ``w12`` -> ``w_{12}``, ``eta`` -> ``\\eta``."""
    if "_" in name:
        base, subscript = name.split("_", 1)
    else:
        match = _TRAILING_DIGITS.match(name)
        base, subscript = (match.group(1), match.group(2)) if match else (name, "")
    if base in GREEK_NAMES:
        head = "\\" + base
    elif len(base) == 1:
        head = base
    else:
        head = r"\mathrm{" + base + "}"
    return head + ("_{" + subscript + "}" if subscript else "")


def _latex_number(node: Node) -> str:
    text = node.text.replace("−", "-")
    if not text.isascii() or not text:
        return str(node.value)  # a superscript exponent
    match = _SCIENTIFIC.match(text)
    if match:
        return f"{match.group(1)} \\times 10^{{{int(match.group(2))}}}"
    return text or str(node.value)


def to_latex(node: Node) -> str:
    """The LaTeX of how ``node`` was interpreted."""
    op = node.op
    if op == "num":
        return _latex_number(node)
    if op == "name":
        return latex_name(str(node.value))
    if op == "const":
        return r"\pi" if node.value == "pi" else "e"
    if op == "group":
        return r"\left(" + to_latex(node.args[0]) + r"\right)"
    if op == "neg":
        return "-" + to_latex(node.args[0])
    if op == "add":
        parts: list[str] = []
        for index, (sign, term) in enumerate(zip(node.value, node.args, strict=True)):
            body = to_latex(term)
            if index == 0:
                parts.append(("-" if sign < 0 else "") + body)
            else:
                parts.append(("- " if sign < 0 else "+ ") + body)
        return " ".join(parts)
    if op == "mul":
        return _latex_product(node)
    if op == "pow":
        base, exponent = node.args
        return _latex_base(base) + "^{" + to_latex(exponent.unwrap()) + "}"
    if op == "call":
        return _latex_call(node)
    if op == "list":
        return r"\left[" + ", ".join(to_latex(arg) for arg in node.args) + r"\right]"
    if op == "matrix":
        rows = [" & ".join(to_latex(entry) for entry in row.args) for row in node.args]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    if op == "eq":
        return to_latex(node.args[0]) + " = " + to_latex(node.args[1])
    if op == "rel":
        return to_latex(node.args[0]) + f" {_LATEX_RELATIONS[node.value]} " + to_latex(node.args[1])
    raise ValueError(f"cannot render a {op} node")


_LATEX_RELATIONS = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq"}


def _latex_factor(node: Node) -> str:
    if node.op in ("neg", "add"):
        return r"\left(" + to_latex(node) + r"\right)"
    return to_latex(node)


def _latex_product(node: Node) -> str:
    result = ""
    for index, (how, factor) in enumerate(zip(node.value, node.args, strict=True)):
        if index == 0:
            result = to_latex(factor)
        elif how == "/":
            result = r"\frac{" + _strip(result) + "}{" + to_latex(factor.unwrap()) + "}"
        else:
            result = result + r" \cdot " + _latex_factor(factor)
    return result


def _strip(latex: str) -> str:
    if latex.startswith(r"\left(") and latex.endswith(r"\right)") and _balanced(latex[6:-7]):
        return latex[6:-7]
    return latex


def _balanced(latex: str) -> bool:
    depth = 0
    for match in re.finditer(r"\\left|\\right", latex):
        depth += 1 if match.group(0) == r"\left" else -1
        if depth < 0:
            return False
    return depth == 0


def _latex_base(node: Node) -> str:
    if node.op in ("num", "name", "const", "group"):
        text = to_latex(node)
        if node.op == "num" and ("times" in text or text.startswith("-")):
            return r"\left(" + text + r"\right)"
        if node.op == "name" and "_" in text:
            return "{" + text + "}"
        return text
    if node.op == "call" and node.value not in ("sqrt",) and node.text != "|":
        return to_latex(node)
    return r"\left(" + to_latex(node) + r"\right)"


def _latex_call(node: Node) -> str:
    name = str(node.value)
    args = ", ".join(to_latex(arg) for arg in node.args)
    if name == "sqrt":
        return r"\sqrt{" + args + "}"
    if name == "abs":
        return r"\left|" + args + r"\right|"
    return FUNCTIONS[name].latex + r"\left(" + args + r"\right)"


def to_text(node: Node) -> str:
    """Plain-text echo with explicit ``*`` and ``^``, e.g. ``2*w1*x1``."""
    op = node.op
    if op == "num":
        text = node.text
        return text if text and text.isascii() else str(node.value)
    if op in ("name", "const"):
        return str(node.value)
    if op == "group":
        return "(" + to_text(node.args[0]) + ")"
    if op == "neg":
        return "-" + to_text(node.args[0])
    if op == "add":
        out = ""
        for index, (sign, term) in enumerate(zip(node.value, node.args, strict=True)):
            if index == 0:
                out = ("-" if sign < 0 else "") + to_text(term)
            else:
                out += (" - " if sign < 0 else " + ") + to_text(term)
        return out
    if op == "mul":
        out = ""
        for index, (how, factor) in enumerate(zip(node.value, node.args, strict=True)):
            body = to_text(factor)
            if factor.op in ("neg", "add") and index > 0:
                body = "(" + body + ")"
            out = body if index == 0 else out + ("/" if how == "/" else "*") + body
        return out
    if op == "pow":
        base, exponent = node.args
        base_text = to_text(base)
        if base.op not in ("num", "name", "const", "group", "call") or base_text.startswith("-"):
            base_text = "(" + base_text + ")"
        exponent_text = to_text(exponent)
        if exponent.op not in ("num", "name", "const", "group", "call") or (
            exponent_text.startswith("-")
        ):
            exponent_text = "(" + exponent_text + ")"
        return base_text + "^" + exponent_text
    if op == "call":
        args = ", ".join(to_text(arg) for arg in node.args)
        return f"{node.value}({args})"
    if op == "list":
        return "[" + ", ".join(to_text(arg) for arg in node.args) + "]"
    if op == "matrix":
        return "[" + ", ".join(to_text(row) for row in node.args) + "]"
    if op == "eq":
        return to_text(node.args[0]) + " = " + to_text(node.args[1])
    if op == "rel":
        return to_text(node.args[0]) + f" {node.value} " + to_text(node.args[1])
    raise ValueError(f"cannot render a {op} node")
