from __future__ import annotations

from grader import __version__


def test_healthz_reports_version_and_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": __version__, "database": "ok"}


def test_healthz_reports_a_dead_database(tmp_path):
    from grader import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_unknown_route_is_an_html_404_without_a_trace(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"Traceback" not in response.data
    assert b"404" in response.data


def test_unknown_api_route_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404


def test_json_clients_get_problem_json(client):
    response = client.get("/missing", headers={"Accept": "application/json"})
    assert response.mimetype == "application/problem+json"


def test_unexpected_errors_are_logged_500s_without_a_trace(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom secret detail")

    response = client.get("/boom")
    assert response.status_code == 500
    assert b"kaboom" not in response.data
    assert b"Traceback" not in response.data
    assert any("unhandled error" in r.message for r in caplog.records)


def test_ids_no_row_can_have_are_404_not_500(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [
            name
            for name, conv in rule._converters.items()
            if type(conv).__name__ == "IntegerConverter"
        ]
        if not ints or "GET" not in rule.methods:
            continue
        url = rule.rule
        for name in ints:
            url = url.replace(f"<int:{name}>", str(10**20))
        response = client.get(url)
        assert response.status_code in {401, 403, 404}, (url, response.status_code)
        assert b"Traceback" not in response.data
        checked += 1
    assert checked > 10
