"""Routes of the web console's session: signing in with a cookie, and who is signed in with what they may do."""

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from backbone.access import ACCESS, PUBLIC
from backbone.clock import clock
from backbone.service import RuntimeDep
from gateway.accounts.api import TokenRequest
from gateway.accounts.browser import set_session_cookie
from gateway.accounts.credentials import known_person, sign_in
from gateway.auth import Caller, csrf_token
from gateway.projections import sessions, users

router = APIRouter(prefix="/api/v1", tags=["auth"])


class BrowserSession(BaseModel):
    csrf_token: str = Field(description="Send it as the X-CSRF-Token header with every write made with the cookie.")
    expires_in: int = Field(description="Seconds until the session ends at the latest; an idle one ends sooner.")
    password_change_required: bool
    second_factor_required: bool


@router.post("/auth/session", response_model=BrowserSession)
async def browser_sign_in(body: TokenRequest, request: Request, response: Response,
                          runtime: RuntimeDep) -> BrowserSession:
    """Sign in from a browser: as `POST /auth/token`, but the session comes back as an HttpOnly, SameSite=Strict
    cookie (Secure outside development) instead of a token, with the CSRF token its writes need."""
    await request.app.state.authenticate.admit_sign_in(request, body.username)
    known = await known_person(runtime.engine, body.username)
    request.state.audit_actor = body.username if known else "(unknown user name)"
    signed_in = await sign_in(runtime.engine, runtime.store, runtime.settings, body.username, body.password,
                              body.code)
    set_session_cookie(response, signed_in.access_token, runtime.settings)
    return BrowserSession(csrf_token=csrf_token(signed_in.session_id, runtime.settings),
                          expires_in=runtime.settings.token_ttl_seconds,
                          password_change_required=signed_in.must_change,
                          second_factor_required=signed_in.needs_second_factor)


class Me(BaseModel):
    username: str
    display_name: str | None
    roles: list[str]
    org_unit: str | None = Field(description="The org unit of the person's data scope (a district its own).")
    division: str | None = Field(description="The division (处室) whose funds a division person sees.")
    pii: bool
    operations: list[str] = Field(description="Every endpoint of the access table the person's roles admit, as "
                                              "`METHOD /path`: what the console offers them.")
    password_change_required: bool
    second_factor_required: bool
    csrf_token: str | None = Field(description="The session's CSRF token (none for API keys).")
    idle_seconds: int = Field(description="A session unused this long ends.")
    now: datetime = Field(description="The platform's time: the console's 'today' (序时进度, alerts per day, the "
                                      "coming fiscal year) is the server's, never the browser's clock.")


@router.get("/me", response_model=Me)
async def me(principal: Caller, request: Request, runtime: RuntimeDep) -> Me:
    """Who is signed in, their data scope and what the access table lets them do."""
    session_id = request.state.session_id
    async with runtime.engine.connect() as conn:
        name = await conn.scalar(select(users.c.display_name).where(users.c.username == principal.subject))
        flags = (await conn.execute(select(sessions.c.must_change, sessions.c.needs_second_factor)
                                    .where(sessions.c.session_id == session_id))).first() if session_id else None
    roles = set(principal.roles)
    operations = sorted(key for key, admitted in ACCESS.items() if admitted is not PUBLIC and admitted & roles)
    return Me(username=principal.subject, display_name=name, roles=principal.roles, org_unit=principal.org_unit,
              division=principal.division, pii=principal.pii, operations=operations,
              password_change_required=bool(flags and flags.must_change),
              second_factor_required=bool(flags and flags.needs_second_factor),
              csrf_token=csrf_token(session_id, runtime.settings) if session_id else None,
              idle_seconds=runtime.settings.session_idle_seconds, now=clock().now())
