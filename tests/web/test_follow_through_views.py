"""Follow-through on the student's quiz page (no JavaScript): the badge and the sentence
naming the earlier value, and a later answer re-judged when the earlier one is fixed."""

from __future__ import annotations

from markupsafe import escape

from grader.exercises import Variant
from tests.support.follow_values import text
from tests.support.follow_values import wrong_chain
from tests.support.student_world import make_world
from tests.web.test_student_views import answer
from tests.web.test_student_views import login_as
from tests.web.test_student_views import my_attempt
from tests.web.test_student_views import open_quiz


def test_a_consistent_answer_is_shown_and_follows_the_earlier_one(client, db_session):
    world = make_world(db_session, follow_through_credit=0.5)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    variant = Variant.from_json(attempt.variant)
    chain = wrong_chain(variant, "y")
    y_wrong = text(chain["y"])
    answer(client, html, attempt, "y", y_wrong)
    html = open_quiz(client, world)
    answer(client, html, attempt, "w1", text(chain["w1"]))
    html = open_quiz(client, world)
    assert "Right, given your earlier answer" in html  # the badge
    assert str(escape(f"Right, given your y = {y_wrong}; that value was wrong.")) in html
    assert "1 / 2 points" in html  # half credit on the 2-point part
    # The earlier answer is fixed: the later one is judged again, now simply wrong, and
    # keeps the score the student was shown (a seen score never goes down).
    answer(client, html, attempt, "y", variant.part("y").key_text)
    html = open_quiz(client, world)
    assert "Right, given your earlier answer" not in html
    assert "you keep the score you were given" in html
    assert "1 / 2 points" in html
