"""Network diagrams as SVG, generated from a variant's own numbers.

The plain diagram shows nodes (inputs, hidden and output units), edges labelled with their
weights, and the target; the solution diagram adds forward values under each node and
gradients under each edge label. Every piece of text goes through ``html.escape`` so an
instructor's label can never inject markup; numbers are formatted here, not by callers.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from grader.exercises.numbers import format_number

_COL = 190
_COL_DENSE = 270
_ROW = 96
_R = 24
_PAD_X = 70
_PAD_Y = 46
#: a white outline behind edge labels keeps them legible where lines cross
_HALO = 'paint-order="stroke" stroke="#ffffff" stroke-width="3"'
_WEIGHT_FONT = 13
_GRAD_FONT = 11
#: gap between a label's box and the edge line (px)
_GAP = 3.0


def _clear_of_line(
    px: float, py: float, nx: float, ny: float, text: str, font: float, *, side: float
) -> tuple[float, float]:
    """The centre of a label box beside the point (px, py) of a line with unit normal
    (nx, ny), on ``side`` (-1 above, +1 below), so that no part of the box touches it.

    The box (width estimated from the characters, height from the font) reaches
    ``hw|nx| + hh|ny|`` towards the line from its centre; the centre sits that far plus a
    gap away along the normal.
    """
    half_width = 0.3 * font * len(text)
    half_height = 0.5 * font
    reach = half_width * abs(nx) + half_height * abs(ny) + _GAP
    return px + side * nx * reach, py + side * ny * reach


@dataclass(frozen=True)
class Node:
    """One unit: its label (``x₁``, ``h``, ``y``), and optional forward value and bias."""

    label: str
    value: float | None = None
    bias: str | None = None
    kind: str = "unit"  # "input" | "unit" | "output"
    delta: float | None = None  # dL/dz, shown in the solution diagram


@dataclass(frozen=True)
class Edge:
    """A weighted connection from (layer, index) to (layer, index)."""

    src: tuple[int, int]
    dst: tuple[int, int]
    label: str
    grad: float | None = None
    #: what ``grad`` is the derivative of, as the solution diagram names it
    grad_name: str = "∂L"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def num(value: float, sig: int = 4) -> str:
    """A number for a diagram label."""
    return format_number(value, sig)


@dataclass(frozen=True)
class Geometry:
    """Where :func:`network_svg` puts things: its size and each unit's centre."""

    width: float
    height: float
    dense: bool
    #: (layer, index) -> centre
    pos: dict[tuple[int, int], tuple[float, float]]

    def edge_label_at(self, src: tuple[int, int], dst: tuple[int, int]) -> tuple[float, float]:
        """The point on an edge where its weight label sits (before moving off the line)."""
        (x1, y1), (x2, y2) = self.pos[src], self.pos[dst]
        frac = 0.2 + 0.22 * (dst[1] % 3) if self.dense else 0.35
        return x1 + (x2 - x1) * frac, y1 + (y2 - y1) * frac


def network_geometry(
    layers: Sequence[Sequence[object]], *, has_targets: bool, solution: bool = False
) -> Geometry:
    """The layout of a layered network (also for graph layouts placed over the diagram)."""
    n_rows = max(len(layer) for layer in layers)
    dense = any(len(a) * len(b) > 2 for a, b in itertools.pairwise(layers))
    col = _COL_DENSE if dense else _COL
    width = 2 * _PAD_X + col * (len(layers) - 1) + (150 if has_targets else 40)
    height = 2 * _PAD_Y + _ROW * (n_rows - 1) + (44 if solution else 10)
    pos: dict[tuple[int, int], tuple[float, float]] = {}
    for li, layer in enumerate(layers):
        offset = (n_rows - len(layer)) * _ROW / 2
        for ni in range(len(layer)):
            pos[(li, ni)] = (_PAD_X + li * col, _PAD_Y + offset + ni * _ROW)
    return Geometry(float(width), float(height), dense, pos)


#: a unit's radius in :func:`network_svg`
UNIT_RADIUS = float(_R)


def network_svg(
    layers: Sequence[Sequence[Node]],
    edges: Sequence[Edge],
    *,
    targets: Sequence[str] = (),
    title: str = "network",
    solution: bool = False,
) -> str:
    """Render a layered network; ``targets`` label outputs, ``solution`` adds numbers."""
    geo = network_geometry(layers, has_targets=bool(targets), solution=solution)
    width, height, pos = geo.width, geo.height, geo.pos
    dense = geo.dense
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{_esc(title)}" '
        'font-family="sans-serif" font-size="13">',
        f"<title>{_esc(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/>'
        "</marker></defs>",
    ]
    for e in edges:
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        dx, dy = x2 - x1, y2 - y1
        dist = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        sx, sy = x1 + dx / dist * _R, y1 + dy / dist * _R
        ex, ey = x2 - dx / dist * _R, y2 - dy / dist * _R
        out.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#555" '
            'stroke-width="1.4" marker-end="url(#arrow)"/>'
        )
        # dense layers: stagger labels along their edges by destination so they do not collide
        frac = 0.2 + 0.22 * (e.dst[1] % 3) if dense else 0.35
        px, py = sx + (ex - sx) * frac, sy + (ey - sy) * frac
        # The weight sits above the line and the gradient below it, each moved off the line
        # along its normal far enough that its whole box clears the stroke at any slope.
        nx, ny = -dy / dist, dx / dist
        if ny < 0:
            nx, ny = -nx, -ny  # the normal pointing down the page
        cx, cy = _clear_of_line(px, py, nx, ny, e.label, _WEIGHT_FONT, side=-1.0)
        out.append(
            f'<text x="{cx:.1f}" y="{cy + _WEIGHT_FONT * 0.35:.1f}" text-anchor="middle" '
            f'fill="#1f4e9c" {_HALO} class="weight">{_esc(e.label)}</text>'
        )
        if solution and e.grad is not None:
            text = f"{e.grad_name} = {num(e.grad)}"
            gx, gy = _clear_of_line(px, py, nx, ny, text, _GRAD_FONT, side=1.0)
            out.append(
                f'<text x="{gx:.1f}" y="{gy + _GRAD_FONT * 0.35:.1f}" text-anchor="middle" '
                f'fill="#b03a2e" {_HALO} font-size="{_GRAD_FONT}" class="grad">'
                f"{_esc(text)}</text>"
            )
    for li, layer in enumerate(layers):
        for ni, node in enumerate(layer):
            x, y = pos[(li, ni)]
            fill = {"input": "#eef5ff", "output": "#fff1e6"}.get(node.kind, "#ffffff")
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_R}" fill="{fill}" stroke="#222" '
                'stroke-width="1.5"/>'
            )
            out.append(
                f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="15" '
                f'class="node">{_esc(node.label)}</text>'
            )
            if node.bias is not None:
                out.append(
                    f'<text x="{x:.1f}" y="{y - _R - 6:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#555" class="bias">{_esc(node.bias)}</text>'
                )
            if solution and node.value is not None:
                out.append(
                    f'<text x="{x:.1f}" y="{y + _R + 15:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#186a3b" class="value">= {_esc(num(node.value))}'
                    "</text>"
                )
            if solution and node.delta is not None:
                out.append(
                    f'<text x="{x:.1f}" y="{y + _R + 28:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#b03a2e" class="delta">δ = {_esc(num(node.delta))}'
                    "</text>"
                )
    last = len(layers) - 1
    for ni, text in enumerate(targets):
        x, y = pos[(last, ni)]
        out.append(
            f'<text x="{x + _R + 12:.1f}" y="{y + 5:.1f}" fill="#7d3c98" '
            f'class="target">{_esc(text)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
