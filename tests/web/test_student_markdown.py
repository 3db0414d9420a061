"""Instructor Markdown: sanitized, with LaTeX kept intact for KaTeX (no database)."""

from __future__ import annotations

import pytest

from grader.web.markdown import render_inline
from grader.web.markdown import render_markdown
from grader.web.student import svg_img


def test_math_survives_markdown_untouched():
    html = str(render_markdown(r"Let $w_1 x_1 + w_2 x_2$ and $$\frac{\partial L}{\partial w}$$"))
    assert r"$w_1 x_1 + w_2 x_2$" in html
    assert r"$$\frac{\partial L}{\partial w}$$" in html
    assert "<em>" not in html


def test_money_is_not_math():
    assert "<em>" in str(render_markdown("costs $5 and *only* $6"))


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("[x](javascript:alert(1))", "href"),
        ('<a href="javascript:alert(1)">x</a>', "<a"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ("$a<b$ and $</span><script>x</script>$", "<script"),
    ],
)
def test_html_and_script_never_get_through(source, forbidden):
    assert forbidden not in str(render_markdown(source))


def test_math_with_angle_brackets_is_escaped_text():
    assert "$a&lt;b$" in str(render_markdown("$a<b$"))


def test_headings_stay_below_the_page_headings():
    assert str(render_markdown("# Title")).strip() == "<h3>Title</h3>"
    assert str(render_markdown("### Step", 1)).strip() == "<h4>Step</h4>"


def test_inline_has_no_paragraph():
    assert str(render_inline("**B** $x^2$")) == "<strong>B</strong> $x^2$"


def test_diagrams_are_images_that_cannot_run_script():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg">'
        '<title>net &amp; "x"</title><script>1</script></svg>'
    )
    html = str(svg_img(svg, "fallback"))
    assert html.startswith('<img class="diagram" src="data:image/svg+xml;base64,')
    assert 'alt="net &amp; &#34;x&#34;"' in html
    assert "<script" not in html
    assert str(svg_img(None, "x")) == ""
