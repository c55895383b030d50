"""The public pages: /privacy, /privacy/history and /privacy/versions/{number}."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from troth.app import create_app
from troth.policy import service
from troth.policy.loader import parse_policy
from troth.runtime import Runtime

EXAMPLE = (Path(__file__).parents[2] / "src" / "troth" / "policy" / "example.yaml").read_text()
HTML = {"accept": "text/html"}
DECLARED_LINKS = {
    "lumeninsights.example",  # terms of use
    "postwise.example",  # a third party's own policy (SH3)
    "tessera.example",
}


def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime.settings, runtime))


def publish(runtime: Runtime, *replacements: tuple[str, str]) -> None:
    text = EXAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    with runtime.transaction() as session:
        service.publish(session, parse_policy(text), "test", dt.datetime.now(dt.UTC))


def publish_two(runtime: Runtime) -> None:
    publish(runtime)
    publish(
        runtime,
        ("    retention_days: 30\n", "    retention_days: 60\n"),
        ("last_updated: 2026-11-01", "last_updated: 2026-12-01"),
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                self.found.append((tag, name, value))


def foreign(html: str, own_host: str = "testserver") -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return [
        (tag, name, value)
        for tag, name, value in parser.found
        if urlsplit(value).scheme in ("http", "https", "")
        and urlsplit(value).netloc not in ("", own_host)
    ]


def test_privacy_is_a_404_page_saying_how_to_publish_before_anything_is_published(
    runtime: Runtime,
) -> None:
    http = client(runtime)
    for headers in (HTML, {}):
        page = http.get("/privacy", headers=headers)
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "no privacy policy has been published yet" in page.text
        assert "troth policy publish" in page.text
    markdown = http.get("/privacy?format=md")
    assert markdown.status_code == 404
    assert "troth policy publish" in markdown.text


def test_pc1_privacy_shows_the_latest_version_with_last_updated_at_the_top(
    runtime: Runtime,
) -> None:
    publish_two(runtime)
    page = client(runtime).get("/privacy", headers=HTML)
    assert page.status_code == 200
    article = page.text[page.text.index('<article class="policy">') :]
    first = article[article.index("<p>") : article.index("</p>")]
    assert first == "<p><strong>Last Updated:</strong> December 1, 2026"
    assert "| IP address" not in page.text
    assert "<td>60 days</td>" in page.text
    assert "Version 2" in page.text
    assert "This is version" not in page.text  # the latest carries no archive notice


def test_privacy_as_markdown_by_query_or_accept_header(runtime: Runtime) -> None:
    publish(runtime)
    http = client(runtime)
    for response in (
        http.get("/privacy?format=md"),
        http.get("/privacy", headers={"accept": "text/markdown"}),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/markdown")
        assert response.text.startswith("**Last Updated:** November 1, 2026\n")
    assert http.get("/privacy?format=pdf").status_code == 422


def test_history_lists_versions_newest_first_with_links(runtime: Runtime) -> None:
    publish_two(runtime)
    page = client(runtime).get("/privacy/history", headers=HTML)
    assert page.status_code == 200
    second, first = page.text.index("/privacy/versions/2"), page.text.index("/privacy/versions/1")
    assert second < first
    assert "2026-12-01" in page.text
    assert "2026-11-01" in page.text
    assert " UTC" in page.text  # published at


def test_history_before_publishing_says_so(runtime: Runtime) -> None:
    page = client(runtime).get("/privacy/history", headers=HTML)
    assert page.status_code == 200
    assert "No version of the privacy policy has been published yet" in page.text


def test_pc1_an_earlier_version_keeps_its_own_text(runtime: Runtime) -> None:
    publish_two(runtime)
    http = client(runtime)
    old = http.get("/privacy/versions/1", headers=HTML)
    assert old.status_code == 200
    assert "November 1, 2026" in old.text
    assert "<td>30 days</td>" in old.text
    assert "This is version 1" in old.text
    assert http.get("/privacy/versions/1?format=md").text.startswith(
        "**Last Updated:** November 1, 2026"
    )
    assert "This is version" not in http.get("/privacy/versions/2", headers=HTML).text


def test_an_unknown_version_is_a_404_page(runtime: Runtime) -> None:
    publish(runtime)
    http = client(runtime)
    page = http.get("/privacy/versions/99", headers=HTML)
    assert page.status_code == 404
    assert "there is no policy version 99" in page.text
    assert http.get("/privacy/versions/abc").status_code == 422


def test_pages_load_nothing_from_another_origin(runtime: Runtime) -> None:
    publish_two(runtime)
    http = client(runtime)
    for path in ("/privacy", "/privacy/history", "/privacy/versions/1", "/privacy/versions/99"):
        html = http.get(path, headers=HTML).text
        outside = foreign(html)
        assert all(tag == "a" for tag, _, _ in outside), outside
        assert {urlsplit(value).netloc for _, _, value in outside} <= DECLARED_LINKS
        assert "<script" not in html
    assert foreign('<img src="https://cdn.example/x.png">') != []  # the check can fail


def test_a_declaration_cannot_inject_script_into_the_page(runtime: Runtime) -> None:
    hostile = "<script src=https://evil.example/x.js></script> [win](https://evil.example)"
    publish(runtime, ("short_name: Lumen", f"short_name: '{hostile}'"))
    html = client(runtime).get("/privacy", headers=HTML).text
    assert "<script" not in html
    assert "evil.example" not in {urlsplit(value).netloc for _, _, value in foreign(html)}
    assert "&lt;script" in html
