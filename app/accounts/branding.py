"""Whose portal this is: the name in the top bar and the browser tab.

The spec's products are "YMCS for Channel" (channels and the vendor), "YMCS for Enterprise"
and "YMCS for RPS Enterprise" (an enterprise's administrator, or a channel working inside that
enterprise through "go to the platform").
"""

from flask import current_app, g, has_request_context
from flask_appbuilder import AppBuilder
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts import roles
from app.models import AccountKind, PermissionType

CHANNEL = _l("YMCS for Channel")
ENTERPRISE = _l("YMCS for Enterprise")
RPS_ENTERPRISE = _l("YMCS for RPS Enterprise")


def portal_brand():
    """The portal's name for whoever is signed in (or visited) now."""
    configured = current_app.config.get("APP_NAME") or "YMCS for Channel"
    if not has_request_context():
        return configured
    acting = g.get("ymcs_acting")
    if acting is not None:
        if acting.kind == "enterprise":
            return str(RPS_ENTERPRISE if acting.role_name == roles.RPS_ENTERPRISE_ADMIN
                       else ENTERPRISE)
    elif getattr(current_user, "is_authenticated", False) and (
            current_user.kind == AccountKind.enterprise and current_user.enterprise is not None):
        rps = current_user.enterprise.permission_type == PermissionType.rps
        return str(RPS_ENTERPRISE if rps else ENTERPRISE)
    # A renamed deployment (APP_NAME) keeps its name; ours is translated.
    return gettext(configured)


class YmcsAppBuilder(AppBuilder):
    """FAB's AppBuilder, whose app_name (top bar, page title) follows portal_brand()."""

    @property
    def app_name(self):
        return portal_brand()
