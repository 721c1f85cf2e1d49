"""Every state-changing request writes an operation-log row, failures included.

The row is written on its own connection, so it survives the request's own rollback, and
also when the view raised (teardown_request catches what after_request never sees).
"""

from flask import g, request, session
from flask_login import current_user
from sqlalchemy import insert

from app.core.scope import current_principal
from app.extensions import db
from app.models import OperationLog, utcnow

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_FAILURE_FLASHES = {"danger", "error", "warning"}  # FAB flashes a bad login as a warning


def _operation_name():
    endpoint = request.endpoint or "unknown"
    if endpoint.endswith((".action_post", ".action")):
        name = request.form.get("action") or (request.view_args or {}).get("name", "")
        return f"{endpoint}:{name}"
    return endpoint


def _failed(status_code):
    if status_code >= 400:
        return True
    flashes = session.get("_flashes") or []
    return any(category in _FAILURE_FLASHES for category, _ in flashes)


def _write(status_code, force=False):
    if (request.method in SAFE_METHODS and not force) or getattr(g, "_ymcs_oplog_written",
                                                                 False):
        return
    g._ymcs_oplog_written = True
    principal = current_principal()
    acting = g.get("ymcs_acting")
    actor = None
    if acting is not None:  # both identities: the tenant worked in, and the real person
        username, actor = f"{acting.kind}:{acting.name}"[:128], acting.actor_username
    elif current_user.is_authenticated:
        username = current_user.username
    else:  # a login attempt: record whom it claimed to be
        username = (request.form.get("username") or "")[:128]
    row = dict(
        created_on=utcnow(),
        user_id=principal.account_id,
        username=username,
        actor_username=actor,
        channel_id=principal.channel_id,
        enterprise_id=principal.enterprise_id,
        operation=_operation_name()[:128],
        path=request.path[:512],
        method=request.method[:8],
        ip=(request.remote_addr or "")[:45],
        result="failure" if _failed(status_code) else "success",
        status_code=status_code,
    )
    # Whatever the request left uncommitted would be rolled back at teardown anyway; ending
    # it now keeps its locks from blocking this write (SQLite has one writer at a time).
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(insert(OperationLog.__table__).values(**row))


def record_response(response):
    _write(response.status_code)
    return response


def record_exception(exc):
    if exc is not None:
        _write(500)


def record_download(status_code=200):
    """A download of tenant data (a device's file) is logged though it is a GET."""
    _write(status_code, force=True)


def init_oplog(app):
    app.after_request(record_response)
    app.teardown_request(record_exception)
