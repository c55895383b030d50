"""Double-submit CSRF tokens for forms shown before anyone is signed in (no session to tie to).

The token is set in a strict, HTTP-only cookie scoped to the form's path and repeated in a
hidden field; a POST whose field does not match its cookie is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from troth.config import Settings
from troth.errors import Forbidden
from troth.security.tokens import new_secret, same

CSRF_REFUSAL = "the security token of this form is missing or wrong: reload the page and try again"


@dataclass(frozen=True)
class DoubleSubmit:
    cookie: str
    path: str

    def token(self, request: Request) -> str:
        """The token the page's form repeats: the one in the cookie, or a new one."""
        return request.cookies.get(self.cookie) or new_secret()

    def set(self, response: Response, settings: Settings, token: str) -> None:
        response.set_cookie(
            self.cookie,
            token,
            path=self.path,
            secure=settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def check(self, request: Request, sent: str) -> None:
        expected = request.cookies.get(self.cookie, "")
        if not expected or not same(sent, expected):
            raise Forbidden(CSRF_REFUSAL)
