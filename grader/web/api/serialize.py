"""Rows to JSON, one function per resource; the shapes are the OpenAPI document's schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from grader.exercises import Variant
from grader.models import ApiToken
from grader.models import Attempt
from grader.models import Course
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.models import Webhook
from grader.models import WebhookDelivery
from grader.services.analysis import ItemStats
from grader.services.analysis import NoteCount
from grader.services.attempts import AttemptProgress
from grader.services.attempts import SolutionVisibility
from grader.services.grade_exports import GradeTable


def when(value: dt.datetime | None) -> str | None:
    """RFC 3339 text for a timestamp (always UTC), or None."""
    return value.isoformat() if value is not None else None


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "name": u.name, "role": u.role}


def token(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "course_id": t.course_id,
        "created_at": when(t.created_at),
        "last_used_at": when(t.last_used_at),
    }


def course(c: Course, role: str) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "title": c.title, "role": role}


def exercise(
    e: Exercise, *, used_in: int | None = None, editable: bool | None = None
) -> dict[str, Any]:
    return {
        "id": e.id,
        "slug": e.slug,
        "title": e.title,
        "course_id": e.course_id,
        "is_builtin": e.is_builtin,
        "current_version": e.current_version,
        "updated_at": when(e.updated_at),
        "used_in": used_in,
        "editable": editable,
    }


def exercise_detail(e: Exercise, version: ExerciseVersion | None, editable: bool) -> dict[str, Any]:
    body = exercise(e, editable=editable)
    body["version"] = version.version if version is not None else None
    body["source_yaml"] = version.source_yaml if version is not None else None
    return body


def quiz(q: Quiz, *, items: list[QuizItem] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": q.id,
        "course_id": q.course_id,
        "title": q.title,
        "description": q.description or "",
        "opens_at": when(q.opens_at),
        "due_at": when(q.due_at),
        "attempts_allowed": q.attempts_allowed,
        "penalty_per_retry": q.penalty_per_retry,
        "follow_through_credit": q.follow_through_credit,
        "late_policy": dict(q.late_policy or {}),
        "show_solutions": q.show_solutions,
        "is_published": q.is_published,
    }
    if items is not None:
        body["items"] = [
            {
                "id": item.id,
                "position": item.position,
                "points": item.points,
                "exercise": {
                    "id": item.exercise.id,
                    "slug": item.exercise.slug,
                    "title": item.exercise.title,
                },
            }
            for item in items
        ]
    return body


def attempt(
    a: Attempt,
    quiz_id: int,
    progress: AttemptProgress | None = None,
    solution: SolutionVisibility | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": a.id,
        "quiz_id": quiz_id,
        "quiz_item_id": a.quiz_item_id,
        "user_id": a.user_id,
        "exercise_version": a.exercise_version,
        "created_at": when(a.created_at),
    }
    if progress is not None:
        variant = Variant.from_json(a.variant)
        body["variant"] = variant.public_json()
        body["progress"] = {
            "earned": progress.earned,
            "possible": progress.possible,
            "finished": progress.finished,
            "parts": [
                {
                    "part_id": p.part_id,
                    "points": p.points,
                    "tries_used": p.tries_used,
                    "tries_left": p.tries_left,
                    "credit": p.credit,
                    "earned": p.earned,
                }
                for p in progress.parts
            ],
        }
        if solution is not None:
            body["solution"] = {
                "answers": {
                    p.part_id: variant.part(p.part_id).key_text
                    for p in progress.parts
                    if solution.part(p.part_id)
                },
                "worked_md": variant.solution_md if solution.worked else None,
            }
    return body


def submission(s: Submission) -> dict[str, Any]:
    return {
        "id": s.id,
        "attempt_id": s.attempt_id,
        "part_id": s.part_id,
        "answer": s.raw_answer,
        "status": s.status,
        "verdict": s.verdict,
        "score": s.score,
        "raw_score": s.raw_score,
        "feedback": s.feedback,
        "counts_as_try": s.counts_as_try,
        "is_late": s.is_late,
        "created_at": when(s.created_at),
        "graded_at": when(s.graded_at),
    }


def grades(table: GradeTable) -> dict[str, Any]:
    return {
        "course": {"id": table.course.id, "code": table.course.code, "title": table.course.title},
        "columns": [
            {
                "quiz_id": c.quiz_id,
                "title": c.title,
                "max_points": c.max_points,
                "is_published": c.is_published,
            }
            for c in table.columns
        ],
        "rows": [
            {
                "user_id": r.user_id,
                "name": r.name,
                "email": r.email,
                "scores": r.scores,
                "total": r.total,
                "follow_points": r.follow_points,
            }
            for r in table.rows
        ],
        "max_total": table.max_total,
    }


def _note(n: NoteCount) -> dict[str, Any]:
    return {"note": n.note, "label": n.label, "count": n.count}


def quiz_analysis(quiz_id: int, items: list[ItemStats]) -> dict[str, Any]:
    return {
        "quiz_id": quiz_id,
        "items": [
            {
                "item_id": item.key,
                "title": item.title,
                "slug": item.slug,
                "students": item.students,
                "parts": [
                    {
                        "part_id": p.part_id,
                        "name": p.name or p.part_id,
                        "students": p.students,
                        "mean": p.mean,
                        "bands": p.bands,
                        "submissions": p.submissions,
                        "right": p.right,
                        "follow": p.follow,
                        "wrong": p.wrong,
                        "notes": [_note(n) for n in p.notes],
                    }
                    for p in item.parts
                ],
                "first_wrong": [
                    {
                        "part_id": fw.part_id,
                        "name": fw.name,
                        "count": fw.count,
                        "causes": [_note(c) for c in fw.causes],
                    }
                    for fw in item.first_wrong_parts
                ],
            }
            for item in items
        ],
    }


def webhook(h: Webhook) -> dict[str, Any]:
    return {
        "id": h.id,
        "course_id": h.course_id,
        "url": h.url,
        "events": list(h.events or []),
        "is_active": h.is_active,
        "created_at": when(h.created_at),
    }


def delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": when(d.next_attempt_at),
        "last_error": d.last_error,
        "created_at": when(d.created_at),
        "delivered_at": when(d.delivered_at),
    }
