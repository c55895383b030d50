"""The public privacy policy, rendered from the declaration: Markdown first, HTML from it.

The wording lives in `templates/policy.md.j2`; this module supplies the mechanics. Every
value the template prints is escaped for Markdown on the way out (Jinja's `finalize`),
so a declaration cannot inject links, emphasis or HTML; helpers that build Markdown on
purpose return `Md`, which passes through untouched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from troth.policy.schema import Category, Declaration, Source

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parents[1] / "web" / "static" / "troth.css"

COUNTRIES = {
    "AT": "Austria", "AU": "Australia", "BE": "Belgium", "BG": "Bulgaria", "BR": "Brazil",
    "CA": "Canada", "CH": "Switzerland", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France",
    "GB": "the United Kingdom", "GR": "Greece", "HR": "Croatia", "HU": "Hungary",
    "IE": "Ireland", "IL": "Israel", "IN": "India", "IS": "Iceland", "IT": "Italy",
    "JP": "Japan", "KR": "South Korea", "LI": "Liechtenstein", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "MX": "Mexico", "NL": "the Netherlands",
    "NO": "Norway", "NZ": "New Zealand", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
    "SE": "Sweden", "SG": "Singapore", "SI": "Slovenia", "SK": "Slovakia", "TH": "Thailand",
    "US": "the United States", "UY": "Uruguay", "ZA": "South Africa",
    "EEA": "the European Economic Area",
}  # fmt: skip

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>&|#])")
_LEADING_MARKER = re.compile(r"^(\d+)([.)])|^([-+=~])")


class Md(str):
    """Markdown built on purpose by a helper; printed without escaping."""

    __slots__ = ()


def escape(value: object) -> str:
    """`value` as literal Markdown text on one line: no markup survives."""
    text = " ".join(str(value).split())
    text = _INLINE_SPECIALS.sub(r"\\\1", text)
    return _LEADING_MARKER.sub(_escape_marker, text, count=1)


def _escape_marker(match: re.Match[str]) -> str:
    if match.group(3):
        return "\\" + match.group(3)
    return f"{match.group(1)}\\{match.group(2)}"


def _finalize(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Md):
        return value
    return escape(value)


def link(text: object, url: object) -> Md:
    target = quote(str(url), safe=":/?#@!$&'*+,;=%~-._")
    return Md(f"[{escape(text)}]({target})")


def mailto(address: object) -> Md:
    return link(address, f"mailto:{address}")


def long_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def country(code: object) -> str:
    country_part, _, region = str(code).partition("-")
    name = COUNTRIES.get(country_part, country_part)
    return f"{name} ({code})" if region else name


def days(count: int | None) -> str:
    if count is None:
        return "as long as your account stays open"
    plain = "1 day" if count == 1 else f"{count} days"
    years = count / 365
    if years < 1:
        return plain
    rounded = round(years)
    about = "1 year" if rounded == 1 else f"{rounded} years"
    return plain + (f" ({about})" if abs(years - rounded) < 0.02 else f" (about {about})")


def join_and(items: Iterable[object]) -> Md:
    """A readable list, each item escaped (or kept, if already Markdown)."""
    words = [_finalize(item) for item in items]
    if len(words) <= 2:
        return Md(" and ".join(words))
    return Md(", ".join(words[:-1]) + ", and " + words[-1])


def labels(ids: Iterable[str], names: Mapping[str, str]) -> Md:
    """Declared ids as their labels, joined; an undeclared id shows as itself."""
    return join_and(names.get(key, key) for key in ids)


def humanize(identifier: object) -> str:
    return str(identifier).replace("_", " ").capitalize()


def _by_group(categories: Iterable[tuple[str, Category]]) -> dict[str, list[Category]]:
    groups: dict[str, list[Category]] = {}
    for _, category in categories:
        groups.setdefault(category.group, []).append(category)
    return groups


def _context(declaration: Declaration) -> dict[str, Any]:
    categories = declaration.categories.items()
    return {
        "d": declaration,
        "org": declaration.organization,
        "given": _by_group((k, c) for k, c in categories if Source.given in c.sources),
        "automatic": _by_group((k, c) for k, c in categories if Source.automatic in c.sources),
        "category_labels": {key: c.label for key, c in categories},
        "purpose_labels": {key: p.label for key, p in declaration.purposes.items()},
    }


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # noqa: S701 - the output is Markdown; _finalize escapes every value
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        link=link,
        mailto=mailto,
        long_date=long_date,
        country=country,
        days=days,
        join_and=join_and,
        labels=labels,
        humanize=humanize,
    )
    return env


def _heading_ids(state: StateCore) -> None:
    """Give every heading a unique id from its text, so sections can be linked to."""
    seen: set[str] = set()
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        base = re.sub(r"[^a-z0-9]+", "-", tokens[index + 1].content.lower()).strip("-")
        slug, number = base or "section", 1
        while slug in seen:
            number += 1
            slug = f"{base or 'section'}-{number}"
        seen.add(slug)
        token.attrSet("id", slug)


@cache
def _markdown() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    parser.core.ruler.push("heading_ids", _heading_ids)
    return parser


def render_markdown(declaration: Declaration) -> str:
    template = _environment().get_template("policy.md.j2")
    text = template.render(_context(declaration))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def markdown_to_html(markdown: str) -> str:
    html: str = _markdown().render(markdown)
    return html


def render_html(declaration: Declaration) -> str:
    """The policy as an HTML fragment (the body of the page)."""
    return markdown_to_html(render_markdown(declaration))


def render_document(declaration: Declaration) -> str:
    """A complete, self-contained HTML file (stylesheet inlined), for `troth policy render`."""
    template = _html_environment().get_template("document.html")
    return template.render(
        title=f"{declaration.organization.short_name} Privacy Policy",
        body=render_html(declaration),
        stylesheet=STYLESHEET.read_text(encoding="utf-8"),
    )


@cache
def _html_environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
