"""The web app's shell: health, headers, API docs from our own origin, errors as JSON or pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from troth.app import create_app
from troth.runtime import Runtime


def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime.settings, runtime))


def test_healthz_answers_with_the_database(runtime: Runtime) -> None:
    response = client(runtime).get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_se1_security_headers_on_every_response(runtime: Runtime) -> None:
    http = client(runtime)
    for path in ("/healthz", "/console/sign-in", "/no-such-page"):
        headers = http.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "http" not in csp  # no third-party origin allowed anywhere
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_api_docs_load_only_from_our_origin(runtime: Runtime) -> None:
    http = client(runtime)
    page = http.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets, "the docs page should reference its script and stylesheet"
    assert all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    schema = http.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Troth"


def test_console_starts_at_the_sign_in_page(runtime: Runtime) -> None:
    http = client(runtime)
    response = http.get("/console/", follow_redirects=False)
    assert response.status_code in (303, 307)
    assert response.headers["location"].endswith("/console/sign-in")
    page = http.get("/console/sign-in")
    assert page.status_code == 200
    assert "<form" in page.text
