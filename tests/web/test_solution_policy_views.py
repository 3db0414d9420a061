"""The quiz page and the JSON API show answers by one rule (attempts.solution_visibility).

On SQLite and PostgreSQL (the ``client`` fixture). "Always" means after the student's
first graded answer to that part (the worked solution once every part has one); "after
the last try" counts a part answered correctly as done, whatever its penalty.
"""

from __future__ import annotations

from typing import Any

from grader.services import tokens
from tests.support.student_world import make_world
from tests.web.test_student_views import answer
from tests.web.test_student_views import key_text
from tests.web.test_student_views import login_as
from tests.web.test_student_views import my_attempt
from tests.web.test_student_views import open_quiz

WRONG = "987654.321"


def _api_solution(client: Any, token: str, attempt_id: int) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/attempts/{attempt_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    solution: dict[str, Any] = response.get_json()["solution"]
    return solution


def _page_keys(html: str, attempt: Any) -> set[str]:
    """The parts whose section on the page shows an answer (the ``key`` paragraph)."""
    shown = set()
    for part in attempt.variant["parts"]:
        start = html.find(f'id="part-{attempt.id}-{part["id"]}"')
        assert start >= 0, part["id"]
        section = html[start : html.find("</section>", start)]
        if 'class="key"' in section:
            shown.add(part["id"])
    return shown


def test_always_shows_each_answer_after_its_first_graded_answer(client, db_session) -> None:
    world = make_world(db_session, show_solutions="always")
    token = tokens.create_token(db_session, user=world.student, name="t").secret
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    parts = [p["id"] for p in attempt.variant["parts"]]

    # Nothing before answering, on the page and in the API.
    assert _page_keys(html, attempt) == set()
    assert "Worked solution" not in html
    assert _api_solution(client, token, attempt.id) == {"answers": {}, "worked_md": None}

    # An unreadable answer costs nothing and unlocks nothing.
    answer(client, html, attempt, "w1", "2*(")
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert _page_keys(html, attempt) == set()

    # A graded (wrong) answer to w1: w1's answer, on both, and no other.
    answer(client, html, attempt, "w1", WRONG)
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert _page_keys(html, attempt) == {"w1"}
    assert "Worked solution" not in html
    assert _api_solution(client, token, attempt.id) == {
        "answers": {"w1": key_text(attempt, "w1")},
        "worked_md": None,
    }

    # Every part answered: every answer and the worked solution, on both.
    for part in parts:
        if part != "w1":
            answer(client, html, attempt, part, WRONG)
            html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert _page_keys(html, attempt) == set(parts)
    assert "Worked solution" in html
    solution = _api_solution(client, token, attempt.id)
    assert solution["answers"] == {p: key_text(attempt, p) for p in parts}
    assert solution["worked_md"] == attempt.variant["solution_md"]


def test_after_last_try_a_correct_answer_is_enough(client, db_session) -> None:
    world = make_world(
        db_session, show_solutions="after_last_try", attempts_allowed=3, penalty_per_retry=0.25
    )
    token = tokens.create_token(db_session, user=world.student, name="t").secret
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    parts = [p["id"] for p in attempt.variant["parts"]]
    # w1 wrong once, then right (0.75 after the penalty); the others right at once.
    answer(client, html, attempt, "w1", WRONG)
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    answer(client, html, attempt, "w1", key_text(attempt, "w1"))
    others = [p for p in parts if p != "w1"]
    for part in others[:-1]:
        html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
        answer(client, html, attempt, part, key_text(attempt, part))
    last = others[-1]
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert _page_keys(html, attempt) == set()  # one part still open: nothing yet
    assert _api_solution(client, token, attempt.id)["worked_md"] is None

    answer(client, html, attempt, last, key_text(attempt, last))
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    # Every part right (w1 with a penalty, tries left over): everything shows.
    assert _page_keys(html, attempt) == set(parts)
    assert "Worked solution" in html
    solution = _api_solution(client, token, attempt.id)
    assert set(solution["answers"]) == set(parts)
    assert solution["worked_md"] == attempt.variant["solution_md"]
