"""Refusals as pages of the portal (FAB leaves Werkzeug's bare ones)."""

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from app.extensions import db

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have permission to open this page."),
    404: _l("There is nothing here, or it is not yours to see."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is too large; nothing was saved."),
    429: _l("Too many attempts. Wait a moment and try again."),
    500: _l("Something went wrong on our side; it has been logged. Try again in a moment."),
}


def _page(error):
    code = getattr(error, "code", 500) or 500
    message = MESSAGES.get(code, getattr(error, "description", ""))
    return render_template("error.html", code=code, message=message,
                           appbuilder=current_app.appbuilder,
                           base_template=current_app.appbuilder.base_template), code


def _crash_page(error):
    """A crash: the portal's page, never the exception (Flask has logged it already)."""
    try:
        db.session.rollback()  # the failed transaction must not break the menus' queries
        return _page(error)
    except Exception:  # the page itself failed (the database is down): a bare one
        current_app.logger.exception("the 500 page failed")
        try:
            text = escape(str(MESSAGES[500]))
        except Exception:  # not even the translation can be looked up
            text = "Something went wrong on our side. Try again in a moment."
        return f"<h3>500</h3><p>{text}</p>", 500


def register_error_pages(app):
    for code in MESSAGES:
        app.register_error_handler(code, _crash_page if code == 500 else _page)
