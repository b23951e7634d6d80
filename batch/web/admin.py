"""The admin pages: accounts and their roles, API tokens, the audit log (page and CSV).

Only an admin reaches `/admin` (`roles.RoleGuard`); every change needs the CSRF token
(`guarded`) and is itself written to the audit log. An admin cannot remove or demote their
own account here, so the last admin cannot lock everybody out by a slip of the mouse.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from batch.errors import ConfigError
from batch.i18n import _
from batch.privacy import mask_cpr
from batch.web.accounts import ROLES
from batch.web.audit import ACTIONS, audit, csv_text, read_entries
from batch.web.context import guarded, web_context
from batch.web.tokens import Tokens

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["ROUTES"]

AUDIT_ROWS = 500


def _role_names() -> dict[str, str]:
    return {
        "viewer": _("Viewer: sees runs and workbooks"),
        "sender": _("Sender: also uploads and sends"),
        "admin": _("Administrator: also accounts, tokens and the audit log"),
    }


async def users_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    """The accounts with their roles; add, change a role, remove."""
    context = web_context(request)
    return context.pages.render(
        request,
        "admin_users.html",
        status,
        accounts=context.accounts.roles(),
        roles=ROLES,
        role_names=_role_names(),
        me=request.scope["session"]["user"],
        error=error,
    )


@guarded
async def add_user(request: Request) -> Response:
    """Add an account with a role (or give an existing one a new password and role)."""
    context = web_context(request)
    form = await request.form()
    name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
    try:
        await run_in_threadpool(
            context.accounts.add, name, str(form.get("password", "")), role or None
        )
    except ConfigError as error:
        return await users_page(request, mask_cpr(str(error)), 400)
    await audit(request, "user", name, detail=f"added or password set, role {role or 'sender'}")
    return RedirectResponse("/admin/users", status_code=303)


@guarded
async def change_role(request: Request) -> Response:
    """Give another account another role."""
    context = web_context(request)
    form = await request.form()
    name, role = str(form.get("name", "")), str(form.get("role", ""))
    if name == request.scope["session"]["user"]:
        return await users_page(request, _("Another administrator must change your role."), 400)
    before = context.accounts.role(name)
    try:
        context.accounts.set_role(name, role)
    except ConfigError as error:
        return await users_page(request, mask_cpr(str(error)), 400)
    await audit(request, "user", name, detail="role", old=before, new=role)
    return RedirectResponse("/admin/users", status_code=303)


@guarded
async def remove_user(request: Request) -> Response:
    """Remove another account; its sessions end with it."""
    context = web_context(request)
    name = str((await request.form()).get("name", ""))
    if name == request.scope["session"]["user"]:
        return await users_page(request, _("Another administrator must remove your account."), 400)
    try:
        context.accounts.remove(name)
    except ConfigError as error:
        return await users_page(request, mask_cpr(str(error)), 400)
    await audit(request, "user", name, detail="removed")
    return RedirectResponse("/admin/users", status_code=303)


async def audit_page(request: Request) -> Response:
    """The newest entries of the audit log, of one action when asked; the CSV has them all."""
    context = web_context(request)
    action = request.query_params.get("action", "")
    chosen = action if action in ACTIONS else None
    found = await run_in_threadpool(read_entries, context.settings.state_dir, chosen)
    shown = [replace(entry, detail=mask_cpr(entry.detail or "")) for entry in found[:AUDIT_ROWS]]
    return context.pages.render(
        request,
        "admin_audit.html",
        entries=shown,
        total=len(found),
        action=chosen or "",
        actions={key: _(name) for key, name in ACTIONS.items()},
    )


async def audit_csv(request: Request) -> Response:
    """Every entry of the audit log as CSV (UTF-8 with a BOM, so Excel reads the letters)."""
    context = web_context(request)
    found = await run_in_threadpool(read_entries, context.settings.state_dir)
    await audit(request, "download", None, detail="audit log (CSV)")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        "\ufeff" + csv_text(found),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


async def tokens_page(
    request: Request, made: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    """The API's tokens by name and age; a token just made is shown here once."""
    context = web_context(request)
    listed = await run_in_threadpool(Tokens(context.settings.state_dir).list)
    return context.pages.render(
        request, "admin_tokens.html", status, tokens=listed, made=made, error=error
    )


@guarded
async def create_token(request: Request) -> Response:
    """Make a token for a name (another system); the page shows it this once."""
    context = web_context(request)
    name = str((await request.form()).get("name", "")).strip()
    try:
        made = await run_in_threadpool(Tokens(context.settings.state_dir).create, name)
    except ConfigError as error:
        return await tokens_page(request, error=mask_cpr(str(error)), status=400)
    await audit(request, "token", name, detail="created")
    return await tokens_page(request, made=made)


@guarded
async def revoke_token(request: Request) -> Response:
    """Revoke a token: the system holding it is refused from its next request."""
    context = web_context(request)
    name = str((await request.form()).get("name", ""))
    try:
        await run_in_threadpool(Tokens(context.settings.state_dir).revoke, name)
    except ConfigError as error:
        return await tokens_page(request, error=mask_cpr(str(error)), status=400)
    await audit(request, "token", name, detail="revoked")
    return RedirectResponse("/admin/tokens", status_code=303)


ROUTES = [
    Route("/admin/users", users_page, methods=["GET"]),
    Route("/admin/users", add_user, methods=["POST"]),
    Route("/admin/users/role", change_role, methods=["POST"]),
    Route("/admin/users/remove", remove_user, methods=["POST"]),
    Route("/admin/tokens", tokens_page, methods=["GET"]),
    Route("/admin/tokens", create_token, methods=["POST"]),
    Route("/admin/tokens/revoke", revoke_token, methods=["POST"]),
    Route("/admin/audit", audit_page, methods=["GET"]),
    Route("/admin/audit.csv", audit_csv, methods=["GET"]),
]
