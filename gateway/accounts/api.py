"""Routes of signing in and out, of passwords and of the second factor."""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from backbone.errors import InvalidInput
from backbone.service import RuntimeDep
from gateway.accounts.credentials import (change_password, confirm_second_factor, enrol_second_factor,
                                          known_person, reset_password, reset_second_factor, sign_in, sign_out)
from gateway.accounts.browser import clear_session_cookie
from gateway.accounts.second_factor import provisioning_uri
from gateway.auth import Caller

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    code: str | None = Field(None, pattern=r"^[0-9]{6}$",
                             description="The 6-digit code of the person's authenticator app, once one is enrolled.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires at the latest; a session idle for "
                                        "FUNDWATCH_SESSION_IDLE_SECONDS ends sooner.")
    password_change_required: bool = Field(
        description="A one-time password: nothing but POST /auth/password is allowed until it is changed.")
    second_factor_required: bool = Field(
        description="The account's roles need a second factor it has not enrolled: nothing but "
                    "POST /auth/second-factor/enrollment and …/confirmation is allowed until it has.")


@router.post("/auth/token", response_model=TokenResponse)
async def token(body: TokenRequest, request: Request, runtime: RuntimeDep) -> TokenResponse:
    """Sign in with user name and password; machines send `X-Api-Key` instead. Five wrong passwords in a
    row lock the account for 15 minutes; a password older than FUNDWATCH_PASSWORD_MAX_AGE_DAYS must be changed
    first. Sign-ins are rate limited per address and name (FUNDWATCH_RATE_LIMIT_SIGN_IN) and per address
    (FUNDWATCH_RATE_LIMIT_SIGN_IN_ADDRESS)."""
    # The audit trail names who tried, but never keeps what was typed as a name unless it is one: a password
    # typed into the name field would stay in the append-only trail for good.
    await request.app.state.authenticate.admit_sign_in(request, body.username)
    known = await known_person(runtime.engine, body.username)
    request.state.audit_actor = body.username if known else "(unknown user name)"
    signed_in = await sign_in(runtime.engine, runtime.store, runtime.settings, body.username, body.password,
                              body.code)
    return TokenResponse(access_token=signed_in.access_token, expires_in=runtime.settings.token_ttl_seconds,
                         password_change_required=signed_in.must_change,
                         second_factor_required=signed_in.needs_second_factor)


@router.post("/auth/logout", status_code=204, response_class=Response)
async def logout(principal: Caller, request: Request, runtime: RuntimeDep) -> Response:
    """End this session: its token stops working at once, and a browser's session cookie is cleared."""
    await sign_out(runtime.engine, request.state.session_id)
    request.app.state.authenticate.forget_sessions(principal.subject)
    response = Response(status_code=204)
    clear_session_cookie(response, runtime.settings)
    return response


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200, description=(
        "At least 8 characters of at least three kinds (lower case, upper case, digits, other), "
        "not containing the user name."))


@router.post("/auth/password", status_code=204, response_class=Response)
async def new_password(body: PasswordChange, principal: Caller, request: Request, runtime: RuntimeDep) -> Response:
    """Change one's own password; every session of the person ends, so sign in again with the new one."""
    try:
        await change_password(runtime.engine, runtime.store, runtime.settings, principal.subject,
                              body.current_password, body.new_password)
    finally:
        # Changed, or locked by a wrong current password: either way the person's sessions ended.
        request.app.state.authenticate.forget_sessions(principal.subject)
    return Response(status_code=204)


class PasswordReset(BaseModel):
    username: str
    one_time_password: str = Field(description="Shown this once; to be changed at the next sign-in.")


@router.post("/users/{username}/password-reset", response_model=PasswordReset)
async def reset(username: str, principal: Caller, request: Request, runtime: RuntimeDep) -> PasswordReset:
    """An administrator gives a person a one-time password (forgotten password, locked account)."""
    password = await reset_password(runtime.engine, runtime.store, username, actor=principal.subject)
    request.app.state.authenticate.forget_sessions(username)
    return PasswordReset(username=username, one_time_password=password)


class Enrolment(BaseModel):
    secret: str = Field(description="Base32; shown this once. Type it into an authenticator app, or scan the URI.")
    otpauth_uri: str


class EnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=200)
    current_code: str | None = Field(None, pattern=r"^[0-9]{6}$", description=(
        "The enrolled app's current code, when one is enrolled and is being replaced."))


@router.post("/auth/second-factor/enrollment", response_model=Enrolment)
async def enrol(body: EnrolmentIn, principal: Caller, request: Request, runtime: RuntimeDep) -> Enrolment:
    """Start enrolling an authenticator app (TOTP) as one's second sign-in factor; it counts once a code from it
    is confirmed. Required of the roles in FUNDWATCH_SECOND_FACTOR_ROLES (administrators)."""
    try:
        secret = await enrol_second_factor(runtime.engine, runtime.store, runtime.settings, principal.subject,
                                           current_password=body.current_password, current_code=body.current_code)
    except InvalidInput:
        # A wrong password or code may have locked the account, which ends its sessions.
        request.app.state.authenticate.forget_sessions(principal.subject)
        raise
    return Enrolment(secret=secret, otpauth_uri=provisioning_uri(secret, principal.subject))


class Confirmation(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The app's current 6-digit code.")


@router.post("/auth/second-factor/confirmation", status_code=204, response_class=Response)
async def confirm(body: Confirmation, principal: Caller, request: Request, runtime: RuntimeDep) -> Response:
    """Confirm the app with its current code: from now on, signing in asks for a code too."""
    await confirm_second_factor(runtime.engine, runtime.store, runtime.settings, principal.subject,
                                request.state.session_id, body.code)
    request.app.state.authenticate.forget_sessions(principal.subject)
    return Response(status_code=204)


@router.post("/users/{username}/second-factor-reset", status_code=204, response_class=Response)
async def reset_factor(username: str, principal: Caller, request: Request, runtime: RuntimeDep) -> Response:
    """An administrator removes a person's second factor (a lost phone); the person enrols a new one."""
    await reset_second_factor(runtime.engine, runtime.store, username, actor=principal.subject)
    request.app.state.authenticate.forget_sessions(username)
    return Response(status_code=204)
