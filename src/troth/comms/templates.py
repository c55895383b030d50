"""Email templates: a subject, a plain-text body and an HTML body, each inside a layout.

Each template declares the values it takes. Values are plain scalars given by the caller;
the organisation's name, address and support email come from the declaration. HTML is
autoescaped, plain text is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from troth.errors import Unprocessable
from troth.policy.schema import Organization

TEMPLATE_DIR = Path(__file__).parent / "templates"
Scalar = str | int | float | bool
_SPACES = re.compile(r"\s+")
_WEB_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class TemplateSpec:
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    """Values that must be absolute http(s) links."""

    @property
    def names(self) -> frozenset[str]:
        return self.required | self.optional


TEMPLATES: dict[str, TemplateSpec] = {
    "guardian_consent": TemplateSpec(
        required=frozenset({"verification_url", "expires_on"}),
        optional=frozenset({"young_person_name"}),
        urls=frozenset({"verification_url"}),
    ),
    "account_reset": TemplateSpec(
        required=frozenset({"reset_url", "valid_minutes"}), urls=frozenset({"reset_url"})
    ),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def spec_of(template: str) -> TemplateSpec:
    spec = TEMPLATES.get(template)
    if spec is None:
        known = ", ".join(sorted(TEMPLATES))
        raise Unprocessable(f"unknown email template '{template}'; known templates: {known}")
    return spec


def check_context(template: str, context: Mapping[str, Any]) -> None:
    """Raise Unprocessable unless `context` gives exactly the values `template` takes."""
    spec = spec_of(template)
    missing = sorted(spec.required - context.keys())
    if missing:
        raise Unprocessable(f"template '{template}' needs: {', '.join(missing)}")
    unknown = sorted(set(context) - spec.names)
    if unknown:
        raise Unprocessable(f"template '{template}' does not take: {', '.join(unknown)}")
    for name, value in context.items():
        _check_value(template, name, value, name in spec.urls)


def _check_value(template: str, name: str, value: Any, is_url: bool) -> None:
    if not isinstance(value, Scalar):
        raise Unprocessable(f"template '{template}': {name} must be text or a number")
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise Unprocessable(f"template '{template}': {name} is over {MAX_VALUE_CHARS} characters")
    if is_url and not (isinstance(value, str) and _WEB_URL.match(value)):
        raise Unprocessable(f"template '{template}': {name} must be an http or https link")


def render(template: str, context: Mapping[str, Any], organization: Organization) -> Rendered:
    """The message for `template` with the caller's values (checked first)."""
    check_context(template, context)
    values: dict[str, Any] = dict.fromkeys(spec_of(template).optional)
    values.update(context)
    values.update(organization=organization, support_email=str(organization.support_email))
    env = environment()
    subject = _one_line(env.get_template(f"{template}.subject.txt").render(values))
    values["subject"] = subject
    text = env.get_template(f"{template}.txt").render(values)
    html = env.get_template(f"{template}.html").render(values)
    return Rendered(subject=subject, text=text.strip() + "\n", html=html)


def _one_line(text: str) -> str:
    """A header may not hold line breaks: a value with one must not start a new header."""
    return _SPACES.sub(" ", text).strip()


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
