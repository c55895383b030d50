"""Setting and clearing the console's cookies with the same flags everywhere."""

from __future__ import annotations

from fastapi import Response

from troth.config import Settings
from troth.security.double_submit import DoubleSubmit
from troth.security.sessions import COOKIE

SIGN_IN_CSRF = DoubleSubmit("troth_sign_in_csrf", "/console/sign-in")


def set_session(response: Response, settings: Settings, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(settings.session_hours * 3600),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )
