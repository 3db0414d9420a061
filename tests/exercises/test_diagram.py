"""SVG diagrams: well-formed, escaped, and drawn from the variant's numbers.

The XML parsed here is our own output (S314 concerns untrusted documents).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_svg

NS = "{http://www.w3.org/2000/svg}"


def test_labels_are_escaped() -> None:
    hostile = '<script>alert("x")</script>&'
    svg = network_svg(
        [[Node(hostile, kind="input")], [Node("y", 0.5, bias=hostile, kind="output")]],
        [Edge((0, 0), (1, 0), hostile, 0.25)],
        targets=[hostile],
        title=hostile,
        solution=True,
    )
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG; well-formed XML
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert hostile in texts
    assert root.find(f"{NS}title").text == hostile


def test_every_network_diagram_parses(gen, library) -> None:
    for spec in library.values():
        v = gen(spec.id, 1)
        for svg in (v.diagram_svg, v.solution_diagram_svg):
            if svg is None:
                continue
            root = ET.fromstring(svg)  # noqa: S314
            assert root.tag == f"{NS}svg"
            assert root.findall(f"{NS}circle")


def test_solution_diagram_carries_values_and_gradients(gen) -> None:
    v = gen("chain-rule-numeric", 2)
    plain = ET.fromstring(v.diagram_svg)  # noqa: S314
    solved = ET.fromstring(v.solution_diagram_svg)  # noqa: S314
    classes = lambda root: {t.get("class") for t in root.iter(f"{NS}text")}  # noqa: E731
    assert {"value", "grad"}.isdisjoint(classes(plain))
    assert {"value", "grad", "weight", "target"} <= classes(solved)
    assert f"w₁ = {v.params['w1']:g}" in v.diagram_svg
