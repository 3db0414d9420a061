"""Answering on the graph: each node's boxes with their verdicts, and sending them.

A graph-shaped variant stores its layout (:mod:`grader.exercises.graph`). This module
joins it with the attempt's submissions into what the page shows per node (the last
answer, its verdict, the sentence naming the earlier value a ``consistent`` answer
follows, the diagnosis) and the first wrong node to highlight. Answers go through
:func:`grader.services.submissions.submit`, one part at a time, like the plain form's:
there is no second grading path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.exercises import Variant
from grader.exercises.graph import Field
from grader.exercises.graph import GraphNode
from grader.exercises.graph import first_wrong_node
from grader.exercises.graph import layout_of
from grader.exercises.kinds import kind_of
from grader.models import Attempt
from grader.models import Submission
from grader.models import User
from grader.models import utcnow
from grader.services import grading
from grader.services import progress as progress_service
from grader.services import submissions as submission_service
from grader.services.follow import STANDING_STATUSES
from grader.services.follow import standing_answer

#: how a screen reader names each kind of box, before the node ("also" boxes name themselves)
ROLE_NAMES = {"forward": "forward value", "gradient": "gradient"}


@dataclasses.dataclass(frozen=True)
class FieldState:
    """One answer box on the graph and where it stands."""

    part_id: str
    role: str
    #: the quantity the box asks for ("∂L/∂h")
    quantity: str
    #: the label a screen reader reads: "gradient at node h: ∂L/∂h"
    label: str
    value: str
    #: empty | correct | consistent | partial | incorrect | pending | invalid | undetermined | error
    status: str
    message: str
    diagnosis: str
    input_hint: str
    accepting: bool
    done: bool
    earned: float
    points: float

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (the page's script reads it)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class NodeState:
    """One node: its place on the diagram, what is given, and its boxes."""

    id: str
    label: str
    at: tuple[tuple[float, float], ...]
    radius: float
    known: str
    fields: tuple[FieldState, ...]
    first_wrong: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "id": self.id,
            "label": self.label,
            "known": self.known,
            "first_wrong": self.first_wrong,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclasses.dataclass(frozen=True)
class GraphState:
    """The graph of one attempt as this student sees it."""

    attempt_id: int
    width: float
    height: float
    nodes: tuple[NodeState, ...]
    #: the first wrong node and the part whose answer is wrong there
    first_wrong_node: str | None
    first_wrong_part: str | None
    #: the sentence the page announces (aria-live): the first wrong node and why
    message: str

    @property
    def part_ids(self) -> list[str]:
        """The parts answered on the graph, in tab order."""
        return [f.part_id for n in self.nodes for f in n.fields]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "attempt_id": self.attempt_id,
            "first_wrong_node": self.first_wrong_node,
            "first_wrong_part": self.first_wrong_part,
            "message": self.message,
            "nodes": [n.to_json() for n in self.nodes],
        }


def _status(sub: Submission | None) -> str:
    if sub is None:
        return "empty"
    if sub.status != "graded":
        return str(sub.status)  # pending, invalid, error
    verdict = sub.verdict or "incorrect"
    if verdict == "incorrect" and sub.score:
        return "partial"
    return str(verdict)


def _shown(progress: progress_service.PartProgress) -> Submission | None:
    """The answer a box shows: a right one once there is one (it keeps its credit), else
    the newest."""
    right = [s for s in progress.submissions if s.status == "graded" and s.verdict == "correct"]
    return right[-1] if right else progress.last


def _standing(progress: progress_service.AttemptProgress, part_ids: list[str]) -> dict[str, str]:
    """The answer each part stands on for follow-through (the rule of
    :func:`grader.services.follow.latest_answers`, on the loaded submissions)."""
    out: dict[str, str] = {}
    for pid in part_ids:
        answer = standing_answer(
            (s.raw_answer, s.verdict)
            for s in progress.part(pid).submissions
            if s.status in STANDING_STATUSES
        )
        if answer is not None:
            out[pid] = answer
    return out


def _field(
    variant: Variant,
    progress: progress_service.AttemptProgress,
    node: GraphNode,
    box: Field,
    accepting: bool,
) -> FieldState:
    part_id = box.part
    part = variant.part(part_id)
    prog = progress.part(part_id)
    sub = _shown(prog)
    fb: Mapping[str, Any] = (sub.feedback or {}) if sub is not None else {}
    message = str(fb.get("message") or "")
    diagnosis = fb.get("diagnosis") or {}
    diag = str(diagnosis.get("message") or "") if isinstance(diagnosis, Mapping) else ""
    public = part.public_json()
    hint = kind_of(part.type).input_hint(
        public.get("shape"),
        list(public["check"].get("variables", [])),
        list(public["check"].get("definition_names", [])),
    )
    done = prog.correct
    if box.role == "also":
        label = f"{box.label} at node {node.label}"
    else:
        label = f"{ROLE_NAMES[box.role]} at node {node.label}: {box.label}"
    return FieldState(
        part_id=part_id,
        role=box.role,
        quantity=box.label,
        label=label,
        value=sub.raw_answer if sub is not None else "",
        status=_status(sub),
        message=message,
        diagnosis="" if diag == message else diag,
        input_hint=hint,
        accepting=accepting and not done and prog.tries_left != 0,
        done=done,
        earned=prog.earned,
        points=prog.points,
    )


def graph_state(
    attempt: Attempt,
    progress: progress_service.AttemptProgress,
    *,
    accepting: bool,
) -> GraphState | None:
    """The attempt's graph with every box's verdict; None when the exercise has no graph."""
    variant = Variant.from_json(attempt.variant)
    layout = layout_of(variant)
    if layout is None:
        return None
    wrong = first_wrong_node(variant, layout, _standing(progress, layout.part_ids()))
    nodes = []
    for node in layout.nodes:
        fields = [_field(variant, progress, node, f, accepting) for f in node.fields]
        nodes.append(
            NodeState(
                id=node.id,
                label=node.label,
                at=node.at,
                radius=node.radius,
                known=node.known,
                fields=tuple(fields),
                first_wrong=wrong is not None and wrong[0].id == node.id,
            )
        )
    return GraphState(
        attempt_id=attempt.id,
        width=layout.width,
        height=layout.height,
        nodes=tuple(nodes),
        first_wrong_node=wrong[0].id if wrong else None,
        first_wrong_part=wrong[1] if wrong else None,
        message=_message(nodes, wrong[1] if wrong else None),
    )


def _message(nodes: list[NodeState], part_id: str | None) -> str:
    if part_id is None:
        fields = [f for n in nodes for f in n.fields]
        if fields and all(f.done for f in fields):
            return "Every node is right."
        return ""
    node = next(n for n in nodes if any(f.part_id == part_id for f in n.fields))
    field = next(f for f in node.fields if f.part_id == part_id)
    why = field.diagnosis or field.message
    text = f"First wrong node: {node.label}. Your {field.quantity} = {field.value}"
    return f"{text} is wrong" + (f": {why}" if why else ".")


@dataclasses.dataclass(frozen=True)
class GraphSubmitResult:
    """What sending a graph form did: the parts sent, and the ones refused with why."""

    sent: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def submit_graph(
    session: Session,
    *,
    user: User,
    attempt: Attempt,
    answers: Mapping[str, str],
    idempotency_key: str | None,
    now: dt.datetime | None = None,
) -> GraphSubmitResult:
    """Send each changed answer of a graph form through the ordinary submit path.

    A box left empty, one that repeats the answer it already shows, and a part already
    answered right are not sent (no try is used); the rest go in the exercise's part
    order, so an earlier value is judged before the values that follow from it. Each
    part gets its own idempotency key derived from the form's.

    Raises:
        NotFound: not the user's attempt, or the exercise has no graph.
    """
    now = now or utcnow()
    variant = Variant.from_json(attempt.variant)
    layout = layout_of(variant)
    on_graph = set(layout.part_ids()) if layout is not None else set()
    progress = progress_service.attempt_progress(session, attempt)
    sent: list[str] = []
    refused: list[tuple[str, str]] = []
    for part in variant.parts:
        text = answers.get(part.id)
        if part.id not in on_graph or text is None or not text.strip():
            continue
        prog = progress.part(part.id)
        shown = _shown(prog)
        if prog.correct or (shown is not None and shown.raw_answer.strip() == text.strip()):
            continue
        key = part_key(idempotency_key, part.id) if idempotency_key else None
        try:
            submission_service.submit(
                session,
                user=user,
                attempt=attempt,
                part_id=part.id,
                raw_answer=text,
                idempotency_key=key,
                now=now,
            )
        except (Conflict, BadRequest) as exc:
            refused.append((part.id, exc.message))
            if not grading.accepts_answers(attempt.quiz_item.quiz, now):
                break
            continue
        sent.append(part.id)
    return GraphSubmitResult(tuple(sent), tuple(refused))


def part_key(form_key: str, part_id: str) -> str:
    """One part's idempotency key from the form's: a digest of both (64 hex characters,
    the longest key ``submit`` takes), so a long form key or long part ids never make two
    parts share one key (the second would find the first's submission and be dropped)."""
    return hashlib.sha256(f"{form_key}\x1f{part_id}".encode()).hexdigest()


def attempt_graph(
    session: Session, attempt: Attempt, now: dt.datetime | None = None
) -> GraphState | None:
    """The attempt's graph as it stands now (after a submit)."""
    now = now or utcnow()
    session.expire_all()  # re-judged dependents were written by the submit path
    progress = progress_service.attempt_progress(session, attempt)
    accepting = grading.accepts_answers(attempt.quiz_item.quiz, now)
    return graph_state(attempt, progress, accepting=accepting)
