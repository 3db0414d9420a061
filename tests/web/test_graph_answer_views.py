"""Answering on the graph (issue 16 item 3), rendered by the server: one fieldset per node
in backward order, a real label per box, the no-JavaScript form post through the ordinary
submit path, the JSON the page's script reads, and the switch to the plain form."""

from __future__ import annotations

import dataclasses
import re

from markupsafe import escape
from sqlalchemy import func
from sqlalchemy import select

from grader.exercises import Variant
from grader.exercises.recipe import evaluate
from grader.models import Attempt
from grader.models import Submission
from tests.support.student_world import REPO
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz
from tests.support.student_world import make_world
from tests.web.test_student_views import csrf
from tests.web.test_student_views import login_as

CHAIN = REPO / "exercises" / "chain-rule-numeric.yaml"
#: the chain rule's boxes in backward order: y, w2, b2, h, w1, b1 (x is given)
CHAIN_ORDER = ["y", "dLdy", "dw2", "db2", "h", "dLdh", "dw1", "w1new", "db1"]


@dataclasses.dataclass(frozen=True)
class Ids:
    id: int
    item_id: int


def graph_world(db_session, slug_path=CHAIN, **settings):
    world = make_world(db_session, prefix="g")
    quiz = make_quiz(
        db_session,
        world.course,
        [load_exercise(db_session, slug_path)],
        title="On the graph",
        **settings,
    )
    ids = Ids(quiz.id, quiz.items[0].id)
    db_session.commit()
    return world, ids


def open_page(client, quiz, **headers):
    response = client.get(f"/quizzes/{quiz.id}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def attempt_of(db_session, quiz, user):
    return db_session.scalar(
        select(Attempt).where(Attempt.quiz_item_id == quiz.item_id, Attempt.user_id == user.id)
    )


def graph_form(html):
    return re.search(r"<form[^>]*data-graph-form.*?</form>", html, re.S).group(0)


def post_graph(client, html, attempt, answers, *, json=False):
    key = re.search(r'data-graph-form.*?name="idempotency_key" value="([^"]+)"', html, re.S)
    data = {f"answer-{k}": v for k, v in answers.items()}
    data.update({"idempotency_key": key.group(1), "csrf_token": csrf(html)})
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/attempts/{attempt.id}/graph", data=data, headers=headers)


def test_one_fieldset_per_node_in_backward_order_with_real_labels(client, db_session):
    world, quiz = graph_world(db_session)
    login_as(client, world.student)
    html = open_page(client, quiz)
    attempt = attempt_of(db_session, quiz, world.student)
    form = graph_form(html)
    names = re.findall(r'name="answer-([^"]+)"', form)
    assert names == CHAIN_ORDER
    legends = re.findall(r"<legend>Node ([^<]+)", form)
    assert legends == ["y", "w2", "b2", "h", "w1", "b1", "x"]
    for part in names:  # every box has a <label for=...> naming its node and quantity
        box_id = f"graph-{attempt.id}-{part}"
        assert f'id="{box_id}"' in form
        assert re.search(rf'<label for="{box_id}">[^<]+ at node [^<]+</label>', form), part
    assert f'<label for="graph-{attempt.id}-dLdh">gradient at node h: ∂L/∂h</label>' in form
    assert f'<label for="graph-{attempt.id}-h">forward value at node h: h</label>' in form
    # the given values: x and the weights are shown as known, not asked
    variant = Variant.from_json(attempt.variant)
    assert "Given: x = " in form
    assert "Given: w2 = " in form
    # the boxes on the graph have no plain per-part form besides
    assert f"/attempts/{attempt.id}/parts/dLdy" not in html
    # the diagram keeps its <img>; the overlay marks one group per node, none wrong yet
    assert 'class="diagram"' in html
    assert html.count('class="graph-mark" data-node=') == 7
    assert "is-first-wrong" not in html
    assert variant.extra["graph"]["nodes"][0]["id"] == "y"


def test_without_javascript_the_form_posts_and_shows_consistent_and_the_first_wrong_node(
    client, db_session
):
    world, quiz = graph_world(db_session, follow_through_credit=0.5)
    login_as(client, world.student)
    html = open_page(client, quiz)
    attempt = attempt_of(db_session, quiz, world.student)
    variant = Variant.from_json(attempt.variant)
    y_wrong = round(float(variant.part("y").key) * 1.5 + 0.2, 4)
    dLdy = evaluate(variant.part("dLdy").follow.recipe, {"y": y_wrong})
    response = post_graph(
        client,
        html,
        attempt,
        {"y": str(y_wrong), "dLdy": f"{dLdy:.6g}", "h": variant.part("h").key_text, "db2": ""},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#graph-{attempt.id}")
    sent = db_session.scalars(
        select(Submission.part_id)
        .where(Submission.attempt_id == attempt.id)
        .order_by(Submission.id)
    ).all()
    assert sent == ["h", "y", "dLdy"]  # part order; the empty box was not sent
    html = open_page(client, quiz)
    form = graph_form(html)
    assert str(escape(f"Right, given your earlier answer. Right, given your y = {y_wrong}")) in form
    assert 'class="graph-node is-first-wrong" data-node="y"' in form
    assert "– first wrong node" in form
    assert 'class="graph-mark is-first-wrong" data-node="y"' in html
    assert "First wrong node: y. Your y = " in form
    assert 'data-status="correct"' in form  # h, and it stays answerable no more
    assert re.search(rf'id="graph-{attempt.id}-h"[^>]*readonly', form, re.S)
    # sending the same form again sends nothing new (no try used twice)
    post_graph(client, html, attempt, {"y": str(y_wrong), "h": variant.part("h").key_text})
    count = db_session.scalar(
        select(func.count()).select_from(Submission).where(Submission.attempt_id == attempt.id)
    )
    assert count == 3


def test_the_script_gets_every_nodes_verdict_as_json(client, db_session):
    world, quiz = graph_world(db_session)
    login_as(client, world.student)
    html = open_page(client, quiz)
    attempt = attempt_of(db_session, quiz, world.student)
    variant = Variant.from_json(attempt.variant)
    y_key = variant.part("y").key_text
    response = post_graph(client, html, attempt, {"y": y_key}, json=True)
    assert response.status_code == 200
    data = response.get_json()["graph"]
    assert [n["id"] for n in data["nodes"]] == ["y", "w2", "b2", "h", "w1", "b1", "x"]
    y_box = data["nodes"][0]["fields"][0]
    assert (y_box["part_id"], y_box["status"], y_box["verdict_text"]) == (
        "y",
        "correct",
        "Correct.",
    )
    assert data["first_wrong_node"] is None
    # a wrong ∂L/∂y from the right y: incorrect, and y's node is now where the chain broke
    wrong = -float(variant.part("dLdy").key)  # the sign slip
    response = post_graph(client, html, attempt, {"dLdy": f"{wrong:.6g}"}, json=True)
    data = response.get_json()["graph"]
    assert data["first_wrong_node"] == "y"
    assert data["first_wrong_part"] == "dLdy"
    box = data["nodes"][0]["fields"][1]
    # the sign slip earns the partial credit the exercise gives it elsewhere, with its diagnosis
    assert box["status"] == "partial"
    assert box["verdict_text"].startswith("Partly right.")
    assert "sign" in box["verdict_text"].lower()
    assert data["message"].startswith("First wrong node: y. Your ∂L/∂y = ")


def test_the_student_can_switch_to_the_plain_form_and_lms_frames_default_to_it(client, db_session):
    world, quiz = graph_world(db_session)
    login_as(client, world.student)
    html = open_page(client, quiz, **{"Sec-Fetch-Dest": "iframe"})
    attempt = attempt_of(db_session, quiz, world.student)
    assert "data-graph-form" not in html
    assert f"/attempts/{attempt.id}/parts/dLdy" in html
    assert "Answer on the graph instead" in html
    html = open_page(client, quiz)  # outside a frame: the graph
    assert "data-graph-form" in html
    html = client.get(f"/quizzes/{quiz.id}?answer_view=plain").get_data(as_text=True)
    assert "data-graph-form" not in html
    html = open_page(client, quiz)  # the choice is remembered
    assert "data-graph-form" not in html
    assert "Answer on the graph instead" in html


def test_other_exercises_keep_the_plain_form_only(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert "data-graph-form" not in html
    assert "Answer on the graph" not in html


def test_graph_layouts_of_the_three_graph_exercises_round_trip(db_session):
    from grader.exercises import generate
    from grader.exercises import load_library
    from grader.exercises.graph import GraphLayout
    from grader.exercises.graph import layout_of

    library = load_library()
    for slug in ("chain-rule-numeric", "computational-graph", "matrix-deltas-232"):
        variant = generate(library[slug], 7)
        again = Variant.from_json(variant.to_json())
        layout = layout_of(again)
        assert layout is not None
        assert layout == layout_of(variant)
        assert GraphLayout.from_json(layout.to_json()) == layout
        # every part of these exercises is a box on the graph, each once
        assert sorted(layout.part_ids()) == sorted(p.id for p in variant.parts)
        # every node sits inside the diagram
        for node in layout.nodes:
            for x, y in node.at:
                assert 0 <= x <= layout.width, (slug, node.id)
                assert 0 <= y <= layout.height, (slug, node.id)


def test_a_long_form_key_still_gives_each_box_its_own_key(client, db_session):
    # A key of the plain form's full length (64) used to be cut back to itself for every
    # part ("{key}:{part}"[:64]): the second box found the first box's submission by key
    # and was dropped, though the page was told it was sent.
    world, quiz = graph_world(db_session)
    login_as(client, world.student)
    html = open_page(client, quiz)
    attempt = attempt_of(db_session, quiz, world.student)
    variant = Variant.from_json(attempt.variant)
    data = {
        "answer-y": variant.part("y").key_text,
        "answer-h": variant.part("h").key_text,
        "idempotency_key": "k" * 64,
        "csrf_token": csrf(html),
    }
    response = client.post(f"/attempts/{attempt.id}/graph", data=data)
    assert response.status_code == 302
    sent = db_session.scalars(
        select(Submission.part_id)
        .where(Submission.attempt_id == attempt.id)
        .order_by(Submission.id)
    ).all()
    assert sent == ["h", "y"]
    # the same form sent again is recognised part by part: nothing new is stored
    client.post(f"/attempts/{attempt.id}/graph", data=data)
    count = db_session.scalar(
        select(func.count()).select_from(Submission).where(Submission.attempt_id == attempt.id)
    )
    assert count == 2


def test_the_graph_endpoint_refuses_others_junk_and_forgeries_with_a_4xx(client, db_session):
    world, quiz = graph_world(db_session)
    login_as(client, world.student)
    html = open_page(client, quiz)
    attempt = attempt_of(db_session, quiz, world.student)
    token = csrf(html)

    def count():
        return db_session.scalar(
            select(func.count()).select_from(Submission).where(Submission.attempt_id == attempt.id)
        )

    # junk part ids are ignored, a non-numeric answer is stored as not understood (no try)
    junk = {"answer-nope": "1", "answer-../y": "2", "answer-y": "sqrt(", "csrf_token": token}
    got = client.post(
        f"/attempts/{attempt.id}/graph", data=junk, headers={"Accept": "application/json"}
    )
    assert got.status_code == 200
    fields = {f["part_id"]: f for n in got.get_json()["graph"]["nodes"] for f in n["fields"]}
    assert fields["y"]["status"] == "invalid"
    assert count() == 1
    # a forged post (no CSRF token) is refused and stores nothing
    forged = client.post(f"/attempts/{attempt.id}/graph", data={"answer-y": "1"})
    assert forged.status_code == 400
    # an answer over the limit is refused with a message, not a 500
    long = {"answer-h": "1" * 10_001, "csrf_token": token}
    got = client.post(
        f"/attempts/{attempt.id}/graph", data=long, headers={"Accept": "application/json"}
    )
    assert got.status_code == 200
    assert got.get_json()["refused"][0]["part"] == "h"
    assert count() == 1
    # another student of the course, and the course's instructor, cannot answer for them
    for someone, status in ((world.other, 404), (world.instructor, 403)):
        login_as(client, someone)
        token = csrf(client.get(f"/quizzes/{quiz.id}").get_data(as_text=True))
        for headers in ({}, {"Accept": "application/json"}):
            got = client.post(
                f"/attempts/{attempt.id}/graph",
                data={"answer-h": "1", "csrf_token": token},
                headers=headers,
            )
            assert got.status_code == status, (someone.email, headers)
    assert count() == 1
