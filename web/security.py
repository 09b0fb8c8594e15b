"""Sessions, the signed-in account, and CSRF protection for every form.

The session is Quart's signed cookie (HttpOnly, SameSite=Lax, Secure over
https; set in server/app.py). It holds the account id, the account's session
epoch (bumped on password change, which voids older sessions) and a CSRF token.
"""

from __future__ import annotations

import functools
import hmac

from quart import g, redirect, request, session, url_for
from quart.sessions import SecureCookieSessionInterface

from models import clock
from models.accounts import Account
from models.errors import InvalidInput, PermissionDenied
from models.services import accounts as account_service
from models.services import circles as circle_service

CSRF_FIELD = "csrf_token"
# Endpoints that prove their caller some other way and need no form token: the
# one-click unsubscribe (RFC 8058), posted by mail clients with no session, whose
# link carries its own HMAC (web/html/unsubscribe.py).
CSRF_EXEMPT = frozenset({"unsubscribe.confirm"})


class CsrfFailed(PermissionDenied):
    pass


class PageSessionInterface(SecureCookieSessionInterface):
    """Quart's signed-cookie session, refreshed only by pages. A stylesheet, an
    image or a URL no route knows (the browser's own /favicon.ico) sends no
    Set-Cookie: such answers may be cached, and one arriving late would
    otherwise bring back a cookie the person has just logged out of."""

    def should_set_cookie(self, app, session) -> bool:
        if not session.modified and request.endpoint in (None, "static"):
            return False
        return super().should_set_cookie(app, session)


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = clock.token(32)
    return token


async def check_csrf() -> None:
    """Refuse a state-changing request whose form lacks this session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in CSRF_EXEMPT:
        return
    form = await request.form
    sent, expected = form.get(CSRF_FIELD, ""), session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed(
            "This form has expired or did not come from this site. Go back, reload the page and try again."
        )


async def refuse_nul_characters() -> None:
    """Refuse a request whose path, query or form holds a NUL character: no
    page takes one, and PostgreSQL fails on it in any query (a 500)."""
    texts = [request.path, *(k + v for k, v in request.args.items(multi=True))]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        texts += [k + v for k, v in (await request.form).items(multi=True)]
    if any("\x00" in text for text in texts):
        raise InvalidInput("The request contains a character that is not allowed (NUL).")


async def load_current_account() -> None:
    g.account = None
    account_id, epoch = session.get("account_id"), session.get("epoch")
    if isinstance(account_id, int) and isinstance(epoch, int):
        g.account = await account_service.account_for_session(account_id, epoch)
        if g.account is None:
            session.pop("account_id", None)


def log_in(account: Account) -> None:
    session.clear()  # a new session on login: no fixation of an older cookie
    session["account_id"] = account.id
    session["epoch"] = account.session_epoch
    session.permanent = True
    csrf_token()


def log_out() -> None:
    session.clear()


def current_account() -> Account | None:
    return g.get("account")


async def viewer_is_member(circle) -> bool:
    """Whether the person viewing the page is an active member of `circle`."""
    account = current_account()
    return account is not None and await circle_service.is_member(circle, account.actor)


def login_required(view):
    @functools.wraps(view)
    async def wrapper(*args, **kwargs):
        if current_account() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return await view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @functools.wraps(view)
    async def wrapper(*args, **kwargs):
        account = current_account()
        if account is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not account.is_admin:
            raise PermissionDenied("Only the instance's admins can see this page.")
        return await view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else goes home. Control
    characters are refused: browsers drop tabs and newlines from URLs, which
    turns "/<tab>/evil.example" into "//evil.example", and a newline cannot go
    in a Location header at all."""
    if (
        target
        and target.isprintable()
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return url_for("home.index")
