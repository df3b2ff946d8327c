"""Browser sessions (the web console, 监控工作台): the session cookie's flags, set at sign-in and cleared at
sign-out. The cookie carries the session's access token, so a browser's session ends exactly when a token's would."""

from fastapi import Response

from backbone.settings import Settings
from gateway.auth import SESSION_COOKIE


def set_session_cookie(response: Response, access_token: str, settings: Settings) -> None:
    """HttpOnly (scripts never read it), SameSite=Strict (no other site's page sends it), Secure outside
    development (where the console is served over plain HTTP on 127.0.0.1)."""
    response.set_cookie(SESSION_COOKIE, access_token, max_age=settings.token_ttl_seconds, path="/", httponly=True,
                        samesite="strict", secure=settings.environment != "development")


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=settings.environment != "development")
