"""Attempts: a student's own variant of a quiz item, and how far they have got.

An attempt is created the first time a student opens a quiz item. Its seed is derived
from the server secret and (user, quiz item), so it is stable, unguessable without the
secret, and different for every student; it is stored anyway, with the whole variant
(answer key included) generated from the exercise's *current* version at that moment.
Later edits to the exercise never touch an attempt already issued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from grader.db import begin_write
from grader.errors import Conflict
from grader.errors import NotFound
from grader.exercises import ExerciseSpec
from grader.exercises import SpecError
from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import kind_of
from grader.exercises import load_spec_text
from grader.models import Attempt
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.models import utcnow
from grader.services import grading
from grader.services import permissions
from grader.services import quiz_access
from grader.services.graph_answers import GraphState
from grader.services.graph_answers import graph_state

# Progress lives in its own module (the graph form reads it too); these names stay
# importable from here, where callers have always found them.
from grader.services.progress import AttemptProgress as AttemptProgress
from grader.services.progress import PartProgress as PartProgress
from grader.services.progress import attempt_progress as attempt_progress
from grader.services.progress import build_progress as build_progress
from grader.services.progress import part_weights as part_weights
from grader.services.progress import progress_for_attempts as progress_for_attempts
from grader.services.progress import tries_used as tries_used

logger = logging.getLogger(__name__)

#: seeds fit a signed 32-bit INTEGER column on both databases
SEED_BITS = 31


def derive_seed(secret: str | bytes | None, user_id: int, quiz_item_id: int) -> int:
    """A per-(user, quiz item) seed: HMAC of the ids under the server secret, or random."""
    if not secret:
        return secrets.randbits(SEED_BITS)
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"seed:{user_id}:{quiz_item_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)


@functools.lru_cache(maxsize=256)
def _spec(source_yaml: str, source_name: str) -> ExerciseSpec:
    # Versions are immutable, so a parsed spec can be reused for every new attempt.
    return load_spec_text(source_yaml, source=source_name)


def current_spec(session: Session, quiz_item: QuizItem) -> tuple[ExerciseVersion, ExerciseSpec]:
    """The exercise version a new attempt gets, and its parsed spec."""
    exercise = quiz_item.exercise
    version = session.scalar(
        select(ExerciseVersion).where(
            ExerciseVersion.exercise_id == exercise.id,
            ExerciseVersion.version == exercise.current_version,
        )
    )
    if version is None:
        raise NotFound(f"exercise {exercise.slug} has no version {exercise.current_version}")
    return version, _spec(version.source_yaml, f"{exercise.slug}@v{version.version}")


def find_attempt(session: Session, user: User, quiz_item: QuizItem) -> Attempt | None:
    """The user's attempt at this item, if any."""
    return session.scalar(
        select(Attempt).where(Attempt.quiz_item_id == quiz_item.id, Attempt.user_id == user.id)
    )


def find_attempts(session: Session, user: User, items: Sequence[QuizItem]) -> dict[int, Attempt]:
    """The user's attempts at these items in one query, keyed by quiz item id."""
    ids = [item.id for item in items]
    if not ids:
        return {}
    rows = session.scalars(_attempts_query(), {"item_ids": ids, "user_id": user.id})
    return {attempt.quiz_item_id: attempt for attempt in rows}


# Statements on every quiz page, submit and preview are built once: building one costs
# more CPU than running it (see grader.services.auth._live_sign_in_query).
@functools.cache
def _attempts_query() -> Select[Attempt]:
    return select(Attempt).where(
        Attempt.quiz_item_id.in_(bindparam("item_ids", expanding=True)),
        Attempt.user_id == bindparam("user_id"),
    )


@functools.cache
def _attempt_query() -> Select[Attempt]:
    # submit and preview need the quiz next: one query instead of three
    return (
        select(Attempt)
        .where(Attempt.id == bindparam("attempt_id"))
        .options(joinedload(Attempt.quiz_item).joinedload(QuizItem.quiz))
    )


def start_or_resume(
    session: Session,
    user: User,
    quiz_item: QuizItem,
    *,
    secret: str | bytes | None = None,
    now: dt.datetime | None = None,
) -> Attempt:
    """The user's attempt at ``quiz_item``, created (and committed) on first use.

    Args:
        secret: the server secret the seed is derived from; None draws a random seed.
        now: the time the quiz's visibility is judged at.

    Raises:
        NotFound: the quiz is not visible to the user (unpublished, not yet open, or
            not their course).
        Conflict: the exercise cannot produce a variant (a broken exercise; staff are
            told which).
    """
    now = now or utcnow()
    quiz_access.require_quiz_visible(session, user, quiz_item.quiz, now)
    return find_attempt(session, user, quiz_item) or _start(session, user, quiz_item, secret, now)


def _start(
    session: Session,
    user: User,
    quiz_item: QuizItem,
    secret: str | bytes | None,
    now: dt.datetime,
) -> Attempt:
    """Create the attempt (visibility already checked by the caller)."""
    version, spec = current_spec(session, quiz_item)
    seed = derive_seed(secret, user.id, quiz_item.id)
    try:
        variant = generate(spec, seed)
    except SpecError as exc:
        logger.error("quiz_item_id=%s cannot generate seed=%s: %s", quiz_item.id, seed, exc)
        raise Conflict(
            f"exercise {quiz_item.exercise.slug} could not build your variant; tell your instructor"
        ) from None
    begin_write(session)
    attempt = Attempt(
        quiz_item_id=quiz_item.id,
        user_id=user.id,
        exercise_version=version.version,
        seed=seed,
        variant=variant.to_json(),
        created_at=now,
    )
    session.add(attempt)
    try:
        session.commit()
    except IntegrityError:
        # Two tabs opened the quiz at once: the other request created it first.
        session.rollback()
        existing = find_attempt(session, user, quiz_item)
        if existing is None:
            raise
        return existing
    logger.info(
        "started attempt_id=%s user_id=%s quiz_item_id=%s seed=%s version=%s",
        attempt.id,
        user.id,
        quiz_item.id,
        seed,
        version.version,
    )
    return attempt


def get_attempt(session: Session, user: User, attempt_id: int) -> Attempt:
    """An attempt the user may see (their own, or any in a course they teach).

    Raises:
        NotFound: no such attempt, or not the user's to see.
    """
    attempt = session.scalar(_attempt_query(), {"attempt_id": attempt_id})
    if attempt is None:
        raise NotFound(f"no attempt {attempt_id}")
    permissions.require_view_attempt(session, user, attempt)
    return attempt


# --------------------------------------------------------------------------- progress


@dataclasses.dataclass(frozen=True)
class QuizScore:
    """A student's score so far on one quiz."""

    earned: float
    possible: float
    started: int  # items with an attempt
    items: int
    follow: float = 0.0  # of ``earned``, the points earned by follow-through


def quiz_scores(session: Session, user: User, quizzes: Sequence[Quiz]) -> dict[int, QuizScore]:
    """Score so far per quiz for one user, in a constant number of queries."""
    quiz_ids = [q.id for q in quizzes]
    if not quiz_ids:
        return {}
    items = list(session.scalars(select(QuizItem).where(QuizItem.quiz_id.in_(quiz_ids))))
    attempts = list(
        session.scalars(
            select(Attempt)
            .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
            .where(QuizItem.quiz_id.in_(quiz_ids), Attempt.user_id == user.id)
        )
    )
    progress = progress_for_attempts(session, attempts)
    earned: dict[int, float] = dict.fromkeys(quiz_ids, 0.0)
    follow: dict[int, float] = dict.fromkeys(quiz_ids, 0.0)
    started: dict[int, int] = dict.fromkeys(quiz_ids, 0)
    for a in attempts:
        qid = a.quiz_item.quiz_id
        earned[qid] += progress[a.id].earned
        follow[qid] += sum(p.earned for p in progress[a.id].parts if p.by_follow_through)
        started[qid] += 1
    possible: dict[int, float] = dict.fromkeys(quiz_ids, 0.0)
    count: dict[int, int] = dict.fromkeys(quiz_ids, 0)
    for item in items:
        possible[item.quiz_id] += item.points
        count[item.quiz_id] += 1
    return {
        qid: QuizScore(earned[qid], possible[qid], started[qid], count[qid], follow[qid])
        for qid in quiz_ids
    }


# --------------------------------------------------------------------------- solutions


@dataclasses.dataclass(frozen=True)
class SolutionVisibility:
    """What of the answer key a student may see in one attempt now."""

    parts: frozenset[str]  # parts whose answer may be shown
    worked: bool  # the worked solution (it covers every part)

    def part(self, part_id: str) -> bool:
        return part_id in self.parts


def solution_visibility(
    quiz: Quiz, progress: AttemptProgress, now: dt.datetime | None = None
) -> SolutionVisibility:
    """The one rule the quiz page and the JSON API apply: which answers and whether the
    worked solution a student may see in this attempt now.

    ``show_solutions``:

    * ``always``: a part's answer once the student has a graded answer to that part (one
      that counted as a try: unreadable or undecided answers do not unlock it), and the
      worked solution once every part has one; everything once the quiz has closed.
    * ``after_last_try``: everything once every part is answered correctly or out of
      tries (a correct answer is enough, whatever its penalty), or the quiz has closed.
    * ``after_due``: everything once the quiz no longer accepts answers from anyone (the
      due date, or the end of the late window).
    * ``never``: nothing.
    """
    now = now or utcnow()
    every = frozenset(p.part_id for p in progress.parts)
    shown = SolutionVisibility(every, True)
    hidden = SolutionVisibility(frozenset(), False)
    mode = quiz.show_solutions
    if mode == "never":
        return hidden
    end = grading.closes_at(quiz)
    if end is not None and now > end:
        return shown
    if mode == "after_due":
        return hidden
    if mode == "after_last_try":
        return shown if progress.finished else hidden
    if mode == "always":
        answered = frozenset(p.part_id for p in progress.parts if p.answered)
        return SolutionVisibility(answered, bool(every) and answered == every)
    logger.warning("quiz_id=%s has unknown show_solutions %r; hiding", quiz.id, mode)
    return hidden


# --------------------------------------------------------------------------- the quiz page


@dataclasses.dataclass
class PartView:
    """One answer box: the public part, the student's progress, the key only when allowed."""

    id: str
    prompt_md: str
    type: str
    points: float
    choices: list[dict[str, str]] | None
    hints: list[str]
    shape: list[int] | None
    variables: list[str]
    progress: PartProgress
    accepting: bool
    key_text: str | None = None  # set only when the solution is visible
    #: names the prompt defines (h, z1, ...) that answers may use besides the variables
    defined_names: list[str] = dataclasses.field(default_factory=list)

    @property
    def widget(self) -> str:
        """``text``, ``radio`` or ``checkbox``: the answer kind's input."""
        return kind_of(self.type).widget

    @property
    def input_hint(self) -> str:
        """The answer kind's reminder next to the box ("a number", "a list of 3 numbers")."""
        return kind_of(self.type).input_hint(self.shape, self.variables, self.defined_names)


@dataclasses.dataclass
class ItemView:
    """One question of the quiz as this student sees it."""

    position: int
    attempt_id: int
    title: str
    prompt_md: str
    diagram_svg: str | None
    parts: list[PartView]
    earned: float
    possible: float
    solution_md: str | None = None
    solution_diagram_svg: str | None = None
    #: the boxes on the diagram, for a graph-shaped exercise (None: plain form only)
    graph: GraphState | None = None


@dataclasses.dataclass
class QuizPage:
    """Everything the quiz page shows; nothing secret unless the quiz allows it."""

    quiz: Quiz
    items: list[ItemView]
    accepting: bool
    closes_at: dt.datetime | None
    earned: float
    possible: float


def quiz_page(
    session: Session,
    user: User,
    quiz_id: int,
    *,
    secret: str | bytes | None = None,
    now: dt.datetime | None = None,
) -> QuizPage:
    """The quiz with the user's variants (attempts are started on first view).

    Answer keys, mistakes and worked solutions are copied in only where
    :func:`solution_visibility` allows; the rest comes from ``Variant.public_json``.

    Raises:
        NotFound: the quiz is not visible to the user.
    """
    now = now or utcnow()
    quiz = quiz_access.get_quiz(session, user, quiz_id, now)
    found = find_attempts(session, user, quiz.items)
    attempts = [
        found.get(item.id) or _start(session, user, item, secret, now) for item in quiz.items
    ]
    progress = progress_for_attempts(session, attempts)
    accepting = grading.accepts_answers(quiz, now)
    items = []
    for item, attempt in zip(quiz.items, attempts, strict=True):
        variant = Variant.from_json(attempt.variant)
        public = variant.public_json()
        prog = progress[attempt.id]
        show = solution_visibility(quiz, prog, now)
        parts = []
        for part in public["parts"]:
            part_progress = prog.part(part["id"])
            parts.append(
                PartView(
                    id=part["id"],
                    prompt_md=part["prompt_md"],
                    type=part["type"],
                    points=part_progress.points,
                    choices=part.get("choices"),
                    hints=list(part.get("hints") or []),
                    shape=part.get("shape"),
                    variables=list(part.get("check", {}).get("variables", [])),
                    progress=part_progress,
                    accepting=accepting and part_progress.tries_left != 0,
                    key_text=variant.part(part["id"]).key_text if show.part(part["id"]) else None,
                    defined_names=list(part.get("check", {}).get("definition_names", [])),
                )
            )
        items.append(
            ItemView(
                position=item.position,
                attempt_id=attempt.id,
                title=public["title"],
                prompt_md=public["prompt_md"],
                diagram_svg=public.get("diagram_svg"),
                parts=parts,
                earned=prog.earned,
                possible=prog.possible,
                solution_md=variant.solution_md if show.worked else None,
                solution_diagram_svg=variant.solution_diagram_svg if show.worked else None,
                graph=graph_state(attempt, prog, accepting=accepting),
            )
        )
    return QuizPage(
        quiz=quiz,
        items=items,
        accepting=accepting,
        closes_at=grading.closes_at(quiz),
        earned=sum(i.earned for i in items),
        possible=sum(i.possible for i in items),
    )
