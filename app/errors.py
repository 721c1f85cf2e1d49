"""Refusals as pages of the portal (FAB leaves Werkzeug's bare ones)."""

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have permission to open this page."),
    404: _l("There is nothing here, or it is not yours to see."),
    405: _l("This address does not accept that kind of request."),
    429: _l("Too many attempts. Wait a moment and try again."),
}


def _page(error):
    code = getattr(error, "code", 500) or 500
    message = MESSAGES.get(code, getattr(error, "description", ""))
    return render_template("error.html", code=code, message=message,
                           appbuilder=current_app.appbuilder,
                           base_template=current_app.appbuilder.base_template), code


def register_error_pages(app):
    for code in MESSAGES:
        app.register_error_handler(code, _page)
