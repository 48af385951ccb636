"""``/api/signup``, ``/api/signin``, ``/api/signout``, ``/api/me``.

Each takes JSON or a classic HTML form post; a form post with a ``next`` field is answered
with a redirect there (303) instead of JSON, so the pages can work without scripts."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response

from overture.app.accounts.service import SignedIn
from overture.app.deps import (
    CurrentUser,
    clear_session_cookies,
    client_ip,
    is_form,
    safe_path,
    services,
    session_token,
    set_session_cookies,
)
from overture.app.errors import Invalid, Unauthorized
from overture.app.limits import SIGNIN_PER_EMAIL, SIGNIN_PER_IP, SIGNUP_PER_IP
from overture.app.views import user_view

router = APIRouter(prefix="/api", tags=["accounts"])
M = TypeVar("M", bound=BaseModel)


class SignUp(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    display_name: str = Field("", max_length=100)


class SignIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


async def _fields(request: Request) -> dict[str, Any]:
    if is_form(request):
        return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("send a JSON object or a form") from None
    if not isinstance(body, dict):
        raise Invalid("send a JSON object or a form")
    return body


def _parse(model: type[M], fields: dict[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in fields.items() if k in model.model_fields})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Invalid(f"{where}: {first.get('msg', 'invalid')}".strip(": ")) from None


def _signed_in(request: Request, fields: dict[str, Any], signed: SignedIn, status: int) -> Response:
    nxt = safe_path(fields.get("next")) if is_form(request) else None
    response: Response
    if nxt:
        response = RedirectResponse(nxt, status_code=303)
    else:
        csrf = services(request).accounts.csrf_token(signed.token)
        body = {"user": user_view(signed.user), "csrf_token": csrf}
        response = JSONResponse(body, status_code=status)
    set_session_cookies(request, response, signed)
    return response


@router.post("/signup", status_code=201, openapi_extra=_body_doc(SignUp))
async def sign_up(request: Request) -> Response:
    """Create an account and sign in: sets the session and CSRF cookies; the JSON answer
    holds the user and the CSRF token to send as ``X-CSRF-Token``."""
    fields = await _fields(request)
    form = _parse(SignUp, fields)
    svc = services(request)
    svc.limiter.hit(SIGNUP_PER_IP, client_ip(request))
    signed = svc.accounts.sign_up(form.email, form.password, form.display_name)
    return _signed_in(request, fields, signed, 201)


@router.post("/signin", openapi_extra=_body_doc(SignIn))
async def sign_in(request: Request) -> Response:
    """Sign in with email and password (401 when either is wrong). Wrong attempts are
    limited per address and per account (429 with ``Retry-After`` beyond that)."""
    fields = await _fields(request)
    form = _parse(SignIn, fields)
    svc = services(request)
    ip, email = client_ip(request), form.email.strip().lower()
    svc.limiter.check(SIGNIN_PER_IP, ip)
    svc.limiter.check(SIGNIN_PER_EMAIL, email)
    try:
        signed = svc.accounts.sign_in(form.email, form.password)
    except Unauthorized:
        svc.limiter.hit(SIGNIN_PER_IP, ip)
        svc.limiter.hit(SIGNIN_PER_EMAIL, email)
        raise
    svc.limiter.reset(SIGNIN_PER_EMAIL, email)
    return _signed_in(request, fields, signed, 200)


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """End this session (a no-op when not signed in) and clear the cookies."""
    token = session_token(request)
    if token:
        services(request).accounts.sign_out(token)
    fields = await _fields(request) if is_form(request) else {}
    nxt = safe_path(fields.get("next"))
    response: Response = (
        RedirectResponse(nxt, status_code=303) if nxt else JSONResponse({"signed_out": True})
    )
    clear_session_cookies(response)
    return response


@router.get("/me")
def me(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The signed-in user and the session's CSRF token (401 when signed out)."""
    token = session_token(request) or ""
    return {"user": user_view(user), "csrf_token": services(request).accounts.csrf_token(token)}
