"""Instructor Markdown to safe HTML, with LaTeX left intact for KaTeX.

Prompts and solutions are written by instructors, so the HTML is sanitized (nh3) after
rendering (markdown-it-py, raw HTML off). Math would not survive Markdown (``$w_1 x_1$``
has underscores, ``\\frac`` has a backslash), so math spans are swapped for placeholders
first and put back, HTML-escaped, afterwards; KaTeX's auto-render then typesets them in
the browser from the text.
"""

from __future__ import annotations

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

#: display math, \[..\], \(..\), then inline $..$ (no space inside the dollars, not $5)
_MATH = re.compile(
    r"\$\$.+?\$\$"
    r"|\\\[.+?\\\]"
    r"|\\\(.+?\\\)"
    r"|(?<![\\$])\$(?=\S)[^$\n]+?(?<=[^\s\\])\$(?!\d)",
    re.DOTALL,
)
_PLACEHOLDER = re.compile(r"GRADERMATH(\d+)X")

_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "sub",
    "sup",
    "del",
    "span",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)


def _demote(html_text: str, shift: int) -> str:
    # A page already has its h1 and h2 (quiz and question); instructor headings go below,
    # ``shift`` levels further down inside a section that has its own heading.
    def level(match: re.Match[str]) -> str:
        return f"<{match.group(1)}h{min(max(int(match.group(2)), 3) + shift, 6)}>"

    return re.sub(r"<(/?)h([1-6])>", level, html_text)


@functools.lru_cache(maxsize=1024)
def render_markdown(text: str, shift: int = 0) -> Markup:
    """Sanitized HTML for instructor Markdown; ``$...$`` math is kept for KaTeX.

    Headings become h3 at the highest (h4 and lower with ``shift``).
    """
    if not text:
        return Markup("")
    spans: list[str] = []

    def stash(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"GRADERMATH{len(spans) - 1}X"

    protected = _MATH.sub(stash, text)
    rendered = _demote(_md.render(protected), shift)
    clean = nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

    def restore(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return html.escape(spans[index], quote=True) if index < len(spans) else ""

    return Markup(_PLACEHOLDER.sub(restore, clean))  # noqa: S704 - sanitized above


def render_inline(text: str) -> Markup:
    """Like :func:`render_markdown` for one short line: no surrounding paragraph."""
    rendered = str(render_markdown(text)).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return Markup(rendered)  # noqa: S704 - sanitized in render_markdown
