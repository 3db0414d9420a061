"""The expression language: what is accepted, how it is echoed, and what is rejected where."""

from __future__ import annotations

import pytest
import sympy

from grader.checking import ParseError
from grader.checking import parse
from grader.checking import preview

BACKPROP = ("w1", "w2", "x1", "x2", "z1", "z2", "h1", "y", "t", "eta", "x", "z", "a", "b")

# (text, declared variables, plain-text echo, LaTeX echo)
ECHO = [
    ("2x", ("x",), "2*x", r"2 \cdot x"),
    ("2(x+1)", ("x",), "2*(x + 1)", r"2 \cdot \left(x + 1\right)"),
    ("(a+b)(a-b)", ("a", "b"), "(a + b)*(a - b)", r"\left(a + b\right) \cdot \left(a - b\right)"),
    ("x y", ("x", "y"), "x*y", r"x \cdot y"),
    ("w1x1", BACKPROP, "w1*x1", r"w_{1} \cdot x_{1}"),
    ("w1x1 + w2x2", BACKPROP, "w1*x1 + w2*x2", r"w_{1} \cdot x_{1} + w_{2} \cdot x_{2}"),
    ("w_1*x_{1}", BACKPROP, "w1*x1", r"w_{1} \cdot x_{1}"),
    ("w1x1^2", BACKPROP, "w1*x1^2", r"w_{1} \cdot {x_{1}}^{2}"),
    ("xy²", ("x", "y"), "x*y^2", r"x \cdot y^{2}"),
    ("nm^(-1)", ("n", "m"), "n*m^(-1)", r"n \cdot m^{-1}"),
    ("e^-wx", ("w", "x"), "e^(-w*x)", r"e^{-w \cdot x}"),
    ("x ≤ 2y", ("x", "y"), "x <= 2*y", r"x \leq 2 \cdot y"),
    ("m ＋ （n）", ("m", "n"), "m + (n)", r"m + \left(n\right)"),
    ("sech(x)^2", ("x",), "sech(x)^2", r"\operatorname{sech}\left(x\right)^{2}"),
    ("x(t+1)", ("x", "t"), "x*(t + 1)", r"x \cdot \left(t + 1\right)"),
    ("ab(x+1)", ("a", "b", "x"), "a*b*(x + 1)", r"a \cdot b \cdot \left(x + 1\right)"),
    ("x²", ("x",), "x^2", "x^{2}"),
    ("x⁻¹", ("x",), "x^(-1)", "x^{-1}"),
    ("2×x", ("x",), "2*x", r"2 \cdot x"),
    ("2·x", ("x",), "2*x", r"2 \cdot x"),
    ("x − 1", ("x",), "x - 1", "x - 1"),
    ("x**2", ("x",), "x^2", "x^{2}"),
    ("-x^2", ("x",), "-x^2", "-x^{2}"),
    ("2^-x^2", ("x",), "2^(-x^2)", "2^{-x^{2}}"),
    ("e^-x", ("x",), "e^(-x)", "e^{-x}"),
    ("x*e^x", ("x",), "x*e^x", r"x \cdot e^{x}"),
    ("1/2x", ("x",), "1/2*x", r"\frac{1}{2} \cdot x"),
    ("a/b*c", ("a", "b", "c"), "a/b*c", r"\frac{a}{b} \cdot c"),
    ("|x|", ("x",), "abs(x)", r"\left|x\right|"),
    ("2|x-1|", ("x",), "2*abs(x - 1)", r"2 \cdot \left|x - 1\right|"),
    ("|x||y|", ("x", "y"), "abs(x)*abs(y)", r"\left|x\right| \cdot \left|y\right|"),
    ("σ(z)(1-σ(z))", ("z",), "sigmoid(z)*(1 - sigmoid(z))", r"\sigma\left(z\right)"),
    ("ln(x)", ("x",), "log(x)", r"\ln\left(x\right)"),
    ("η*δ2", ("eta", "delta2"), "eta*delta2", r"\eta \cdot \delta_{2}"),
    ("ReLU(z)", ("z",), "relu(z)", r"\operatorname{ReLU}\left(z\right)"),
    ("max(0, z)", ("z",), "max(0, z)", r"\max\left(0, z\right)"),
    ("5.1e-2", (), "5.1e-2", r"5.1 \times 10^{-2}"),
    ("1.38*10^-1", (), "1.38*10^(-1)", r"1.38 \cdot 10^{-1}"),
    ("[1, 2]", (), "[1, 2]", r"\left[1, 2\right]"),
    ("[[1, 2], [3, 4]]", (), "[[1, 2], [3, 4]]", r"\begin{bmatrix}1 & 2 \\ 3 & 4\end{bmatrix}"),
    ("y = 2x + 1", ("x", "y"), "y = 2*x + 1", "y = 2 \\cdot x + 1"),
    ("sin(x)^2", ("x",), "sin(x)^2", r"\sin\left(x\right)^{2}"),
    ("pi e", (), "pi*e", r"\pi \cdot e"),
    ("λ x", ("lambda", "x"), "lambda*x", r"\lambda \cdot x"),
    ("xy(a+b)", ("x", "y", "a", "b"), "x*y*(a + b)", r"x \cdot y \cdot \left(a + b\right)"),
    ("j(2x+3)", ("j", "x"), "j*(2*x + 3)", r"j \cdot \left(2 \cdot x + 3\right)"),
    ("3j", ("j",), "3*j", r"3 \cdot j"),
]


@pytest.mark.parametrize(("text", "variables", "echo", "latex"), ECHO)
def test_preview_echoes_the_interpretation(text, variables, echo, latex):
    result = preview(text, variables=variables)
    assert result.ok, result.message
    assert result.text == echo
    assert latex in result.latex


def test_preview_lists_the_variables_found():
    result = preview("w1x1 + eta*x1", variables=BACKPROP)
    assert result.variables == ("eta", "w1", "x1")
    assert result.to_json()["variables"] == ["eta", "w1", "x1"]


def test_preview_without_declared_variables_accepts_any_name_unsplit():
    result = preview("w1x1 + foo")
    assert result.ok
    assert result.variables == ("foo", "w1x1")


def test_preview_can_restrict_functions():
    result = preview("sigmoid(z)", variables=("z",), functions=("exp",))
    assert not result.ok
    assert "not allowed" in result.message
    assert preview("exp(-z)", variables=("z",), functions=("exp",)).ok


# (text, declared variables, offset, words the message must contain)
INVALID = [
    ("", BACKPROP, 0, "empty"),
    ("   ", BACKPROP, 0, "empty"),
    # sin^2(x) is read as sin(x)^2 (test_checking_generalize.py); these are not.
    ("sin^-1(x)", BACKPROP, 3, "asin(x)"),
    ("sin⁻¹(x)", BACKPROP, 3, "ambiguous"),
    ("sin^2 x", BACKPROP, 3, "sin(x)^2"),
    ("exp^2(x)", BACKPROP, 3, "exp(x)^2"),
    ("sin x", BACKPROP, 0, "brackets"),
    ("ln*x", BACKPROP, 0, "brackets"),
    ("X + 1", BACKPROP, 0, "did you mean x?"),
    ("W1*x1", BACKPROP, 0, "did you mean w1?"),
    ("Eta*x", BACKPROP, 0, "did you mean eta?"),
    ("sigmoyd(z)", BACKPROP, 0, "did you mean sigmoid?"),
    ("In(x)", BACKPROP, 0, "did you mean ln?"),
    ("sinx", BACKPROP, 0, "sin(x)"),
    ("x3", BACKPROP, 0, "x*3 or x^3"),
    ("xe^x", ("x",), 0, "did you mean x*e?"),
    ("q + x", BACKPROP, 0, "Unknown variable 'q'"),
    ("foo(x)", BACKPROP, 0, "neither a function nor a variable"),
    ("w1x3", BACKPROP, 0, "Unknown variable"),
    ("(x + 1", BACKPROP, 0, "never closed"),
    ("((x + 1)", BACKPROP, 0, "never closed"),
    ("x + 1)", BACKPROP, 5, "Unmatched"),
    ("exp(x", BACKPROP, 3, "never closed"),
    ("|x", BACKPROP, 0, "never closed"),
    ("()", BACKPROP, 0, "Empty brackets"),
    ("x + ", BACKPROP, 2, "nothing after"),
    ("x*", BACKPROP, 1, "nothing after"),
    ("*x", BACKPROP, 0, "nothing before"),
    ("x*/y", BACKPROP, 2, "cannot follow"),
    ("x +* y", BACKPROP, 3, "cannot follow"),
    ("---x", BACKPROP, 2, "Too many signs"),
    ("2 3", BACKPROP, 2, "Two numbers"),
    ("x 2", BACKPROP, 2, "use * to multiply"),
    ("(x+1)2", BACKPROP, 5, "use * to multiply"),
    ("0,5", BACKPROP, 1, "decimal point"),
    ("x, y", BACKPROP, 1, "Commas only separate"),
    ("x = y = z", BACKPROP, 6, "one '='"),
    ("x =", BACKPROP, 2, "nothing after '='"),
    ("[1, 2] + 1", BACKPROP, 7, "Unexpected '+'"),
    ("2*[1, 2]", BACKPROP, 2, "whole answer"),
    ("[]", BACKPROP, 0, "empty"),
    ("[[1, 2], [3]]", BACKPROP, 9, "row 2 has 1 entry"),
    ("[[1, 2], 3]", BACKPROP, 9, "not a row"),
    ("[[[1]]]", BACKPROP, 2, "two deep"),
    ("max(x)", BACKPROP, 0, "between 2 and 20 arguments"),
    ("exp(x, y)", BACKPROP, 0, "exactly one argument"),
    ("exp()", BACKPROP, 3, "needs an argument"),
    ("1/0", BACKPROP, 2, "Division by zero"),
    ("log(-1)", BACKPROP, 0, "undefined"),
    ("log(0)", BACKPROP, 0, "undefined"),
    ("sqrt(-4)*x", BACKPROP, 0, "undefined"),
    ("(-8)^(1/3)", BACKPROP, 4, "undefined"),
    ("x^(10^10)", BACKPROP, 1, "exponent"),
    ("x^100001", BACKPROP, 1, "exponent"),
    ("10^10^10", BACKPROP, 2, "too large"),
    ("9^9^9^9", BACKPROP, 3, "too large"),
    ("1e999", BACKPROP, 0, "too large"),
    ("exp(exp(exp(10)))", BACKPROP, 0, "too large"),
    ("x^x^x^x^x^x", BACKPROP, 9, "Too many powers"),
    ("хx", BACKPROP, 0, "Cyrillic"),
    ("x + а", BACKPROP, 4, "Latin keyboard"),
    ("Αx", BACKPROP, 0, "looks like a Latin letter"),
    ("ｘ", BACKPROP, 0, "looks like a Latin letter"),
    ("é", BACKPROP, 0, "not allowed"),
    ("x\u202e + 1", BACKPROP, 1, "invisible"),
    ("x\x00", BACKPROP, 1, "invisible"),
    ("x\u200b", BACKPROP, 1, "invisible"),
    ("\\frac{1}{2}", BACKPROP, 0, "LaTeX"),
    ("{x}", BACKPROP, 0, "round brackets"),
    ("√x", BACKPROP, 0, "sqrt"),
    ("x_", BACKPROP, 1, "subscript"),
    ("1 < x < 3", BACKPROP, 6, "Only one"),
    ("x =< 1", BACKPROP, 2, "<="),
    ("(x < 1)", BACKPROP, 3, "comparison"),
    ("x[2]", BACKPROP, 1, "x_2"),
    ("5%", BACKPROP, 1, "0.05"),
    ("x!", BACKPROP, 1, "Factorials"),
    ("x'", BACKPROP, 1, "primes"),
    ("2.5.1", BACKPROP, 3, "Two numbers"),
    ("x; y", BACKPROP, 1, "single answer"),
    ("a" * 2001, BACKPROP, 2000, "too long"),
    ("(" * 31 + "x" + ")" * 31, BACKPROP, 30, "nested too deeply"),
    ("|" * 40, BACKPROP, 0, "Empty absolute value"),
    ("+".join(["x"] * 1000), BACKPROP, 0, "too long or complicated"),
]


@pytest.mark.parametrize(("text", "variables", "offset", "words"), INVALID)
def test_invalid_input_says_what_and_where(text, variables, offset, words):
    result = preview(text, variables=variables)
    assert not result.ok
    assert result.latex is None
    assert words.lower() in result.message.lower(), result.message
    assert result.offset == offset, result.message


def test_ambiguous_split_is_rejected_with_both_readings():
    result = preview("abc", variables=("a", "b", "c", "ab", "bc"))
    assert not result.ok
    assert "ambiguous" in result.message
    assert "ab*c" in result.message
    assert "a*bc" in result.message


def test_sigma_letter_is_the_sigmoid_only_before_a_bracket():
    assert preview("σ(z)", variables=("z",)).text == "sigmoid(z)"
    assert preview("σ*z", variables=("sigma", "z")).text == "sigma*z"


def test_declared_variable_before_a_bracket_multiplies():
    assert preview("eta(x + 1)", variables=("eta", "x")).text == "eta*(x + 1)"


def test_declared_variable_shadows_the_constant_e():
    assert preview("e*x", variables=("e", "x")).variables == ("e", "x")
    assert preview("e*x", variables=("x",)).variables == ("x",)


def test_parse_returns_sympy_objects():
    z = sympy.Symbol("z", real=True)
    assert parse("sigmoid(z)") == 1 / (1 + sympy.exp(-z))
    assert parse("0.1 + 0.2") == sympy.Rational(3, 10)
    assert parse("5.1e-2") == sympy.Rational(51, 1000)
    assert parse("[[1, 2], [3, 4]]") == sympy.Matrix([[1, 2], [3, 4]])
    assert parse("[1, x]")[0] == 1
    assert parse("w1x1", variables=("w1", "x1")) == sympy.Symbol("w1", real=True) * sympy.Symbol(
        "x1", real=True
    )
    assert isinstance(parse("y = 2*x"), sympy.Eq)
    assert parse("(x - a)^6000").is_Pow


def test_parse_raises_parse_error_with_offset():
    with pytest.raises(ParseError) as caught:
        parse("x + (y", variables=("x", "y"))
    assert caught.value.offset == 4
    assert "never closed" in caught.value.message
    assert isinstance(caught.value, ValueError)


def test_parse_never_evaluates_python():
    with pytest.raises(ParseError):
        parse("__import__('os').system('echo hacked')")
    with pytest.raises(ParseError):
        parse("lambda: 0")
