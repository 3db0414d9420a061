"""AGS 2.0 data: line items and scores (pure values, no HTTP).

Timestamps carry a time zone and microseconds (Blackboard answers 400 without a zone,
pylti1.3#14) and must strictly increase per (line item, user): platforms ignore a score whose
timestamp is not newer than the last one they stored (Canvas answers 400 to an older one).
Moodle compares whole seconds (it keeps ``strtotime(timestamp)``) and answers 409 "Refusing
score with an earlier timestamp" to a score in the same second as the last, so
``next_timestamp`` steps to a later second, not just a later microsecond.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

ACTIVITY_PROGRESS: Final = frozenset(
    {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
)
GRADING_PROGRESS: Final = frozenset(
    {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
)
_ONE_SECOND = dt.timedelta(seconds=1)


def format_timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds and an explicit offset (``...T12:00:00.000000+00:00``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("score timestamps need a time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def next_timestamp(now: dt.datetime, last_sent: dt.datetime | None) -> dt.datetime:
    """``now`` if it is in a later whole second than ``last_sent``, else the next whole second.

    Strictly increasing as AGS asks, and in whole seconds so that Moodle, which compares
    seconds, never refuses a newer score with 409.
    """
    if now.tzinfo is None:
        raise ValueError("score timestamps need a time zone")
    if last_sent is not None and math.floor(now.timestamp()) <= math.floor(last_sent.timestamp()):
        return last_sent.replace(microsecond=0) + _ONE_SECOND
    return now


def _service_url(lineitem_url: str, suffix: str) -> str:
    """Append a path segment before any query: Moodle's line item URLs carry ``?type_id=``."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def scores_url(lineitem_url: str) -> str:
    """``<lineitem>/scores``, keeping the line item's query string."""
    return _service_url(lineitem_url, "/scores")


def results_url(lineitem_url: str) -> str:
    """``<lineitem>/results``, keeping the line item's query string."""
    return _service_url(lineitem_url, "/results")


@dataclass(frozen=True)
class LineItemSpec:
    """A gradebook column to create (AGS POST) or to attach to a deep link.

    Attributes:
        score_maximum: the quiz's real points (never a default 100).
        label: column title.
        resource_id: our id for the quiz (``set_id``), used to find the column again.
        tag: our marker (``"backprop"``).
    """

    score_maximum: float
    label: str
    resource_id: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.score_maximum, bool) or not (
            math.isfinite(self.score_maximum) and self.score_maximum > 0
        ):
            raise ValueError("scoreMaximum must be a positive number")
        if not self.label:
            raise ValueError("a line item needs a label")

    def to_json(self, resource_link_id: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"scoreMaximum": self.score_maximum, "label": self.label}
        if self.resource_id is not None:
            out["resourceId"] = self.resource_id
        if self.tag is not None:
            out["tag"] = self.tag
        if resource_link_id is not None:
            out["resourceLinkId"] = resource_link_id
        return out


@dataclass(frozen=True)
class LineItem:
    """A line item as the platform returned it; ``id`` is its URL."""

    id: str
    score_maximum: float
    label: str
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> LineItem:
        """Parse one line item; raises ValueError on a malformed object."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("a line item needs an id URL")
        maximum = data.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float):
            raise ValueError("a line item needs a numeric scoreMaximum")

        def opt(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        return cls(
            id=data["id"],
            score_maximum=float(maximum),
            label=str(data.get("label", "")),
            resource_id=opt("resourceId"),
            tag=opt("tag"),
            resource_link_id=opt("resourceLinkId"),
            raw=data,
        )

    def matches(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> bool:
        """True if every given criterion equals this item's value."""
        return (
            (resource_link_id is None or self.resource_link_id == resource_link_id)
            and (resource_id is None or self.resource_id == resource_id)
            and (tag is None or self.tag == tag)
        )


@dataclass(frozen=True)
class Score:
    """One AGS score for one user.

    Attributes:
        user_id: the LTI ``sub`` from the launch (never from request parameters).
        score_given: points earned; None to only report progress.
        score_maximum: required whenever ``score_given`` is set.
        timestamp: when the score changed (aware datetime; strictly increasing per user/item).
        submitted_at: the real submission time, so late grading does not mark work late.
    """

    user_id: str
    score_given: float | None
    score_maximum: float | None
    timestamp: dt.datetime
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"
    comment: str | None = None
    started_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("userId is required")
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"bad activityProgress {self.activity_progress!r}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"bad gradingProgress {self.grading_progress!r}")
        if self.score_given is not None:
            if self.score_maximum is None or not self.score_maximum > 0:
                raise ValueError("scoreMaximum > 0 is required with scoreGiven")
            if not (math.isfinite(self.score_given) and self.score_given >= 0):
                raise ValueError("scoreGiven must be a finite number >= 0")
        format_timestamp(self.timestamp)

    def to_json(self) -> dict[str, Any]:
        """The ``application/vnd.ims.lis.v1.score+json`` body."""
        out: dict[str, Any] = {
            "userId": self.user_id,
            "timestamp": format_timestamp(self.timestamp),
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
        }
        if self.score_given is not None:
            out["scoreGiven"] = self.score_given
            out["scoreMaximum"] = self.score_maximum
        if self.comment is not None:
            out["comment"] = self.comment
        submission: dict[str, str] = {}
        if self.started_at is not None:
            submission["startedAt"] = format_timestamp(self.started_at)
        if self.submitted_at is not None:
            submission["submittedAt"] = format_timestamp(self.submitted_at)
        if submission:
            out["submission"] = submission
        return out
