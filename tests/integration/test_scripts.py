"""GET /t.js and GET /consent.js: generated from the declaration, small, and cached."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from troth.app import create_app
from troth.runtime import Runtime

TRACKER_LIMIT = 1536
BANNER_LIMIT = 6 * 1024


def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime.settings, runtime))


def test_co5_tracker_is_served_as_cached_javascript(runtime: Runtime) -> None:
    response = client(runtime).get("/t.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["etag"].startswith('"')
    assert "troth_vid" in response.text
    assert "/api/collect" in response.text


def test_co5_tracker_is_at_most_1_5_kilobytes_gzipped(runtime: Runtime) -> None:
    body = client(runtime).get("/t.js").content
    assert len(gzip.compress(body, 9)) <= TRACKER_LIMIT


def test_co5_banner_is_at_most_6_kilobytes_gzipped(runtime: Runtime) -> None:
    response = client(runtime).get("/consent.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(gzip.compress(response.content, 9)) <= BANNER_LIMIT


def test_co5_an_unchanged_script_answers_304(runtime: Runtime) -> None:
    web = client(runtime)
    for path in ("/t.js", "/consent.js"):
        etag = web.get(path).headers["etag"]
        again = web.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag


def test_co5_a_changed_declaration_changes_the_scripts(runtime: Runtime) -> None:
    web = client(runtime)
    before = {path: web.get(path).headers["etag"] for path in ("/t.js", "/consent.js")}
    policy = runtime.settings.policy_file
    policy.write_text(policy.read_text().replace("troth_vid", "lumen_visitor"))
    runtime.policy_changed()
    for path, etag in before.items():
        response = web.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200, path
        assert response.headers["etag"] != etag
        assert "lumen_visitor" in response.text
        assert "troth_vid" not in response.text


def test_co6_the_dnt_and_gpc_choices_are_in_the_tracker(runtime: Runtime) -> None:
    web = client(runtime)
    assert '"dnt":true' in web.get("/t.js").text
    policy = runtime.settings.policy_file
    policy.write_text(policy.read_text().replace("honor_dnt: true", "honor_dnt: false"))
    runtime.policy_changed()
    text = web.get("/t.js").text
    assert '"dnt":false' in text
    assert '"gpc":true' in text
