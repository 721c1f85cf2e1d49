"""Entering an enterprise's or sub-channel's portal, the way back, and the enterprise's own
answer to its channel's authorization."""

from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_login import current_user

from app.core import scope
from app.extensions import db
from app.models import Enterprise, PermissionType
from app.tenancy import acting
from app.tenancy import rules as tenants


def _translated(error):
    return gettext(error.template, **error.params)


def _actor():
    return scope.principal_of(current_user._get_current_object())


class ActAsView(BaseView):
    """The "go to the platform" icons of Enterprise and Channel Management."""

    route_base = "/act-as"

    def _start(self, visit):
        session["act_as"] = visit.to_session()
        g.ymcs_acting = visit
        flash(gettext("You are now working in %(name)s.", name=visit.name), "info")
        return redirect(url_for("DashboardView.index"))

    def _enter(self, kind, target_id, back_to):
        current = g.get("ymcs_acting")
        try:
            if current is not None:  # further down, from inside a sub-channel
                visit = acting.enter_further(db.session, current, kind, target_id)
            else:
                visit = acting.resume(db.session, _actor(), current_user.username,
                                      {"kind": kind, "id": target_id})
        except scope.OutOfScope:
            abort(404)
        except acting.ActAsRefused as refused:
            flash(_translated(refused), "danger")
            return redirect(url_for(back_to))
        return self._start(visit)

    @expose("/enterprise/<pk>", methods=["POST"])
    @has_access
    def enterprise(self, pk):
        return self._enter("enterprise", pk, "EnterpriseModelView.list")

    @expose("/channel/<pk>", methods=["POST"])
    @has_access
    def channel(self, pk):
        return self._enter("channel", pk, "ChannelModelView.list")

    @expose("/stop", methods=["POST"])
    def stop(self):
        if not current_user.is_authenticated:
            abort(401)
        session.pop("act_as", None)
        return redirect(url_for("DashboardView.index"))


def load_acting():
    """Before each request: resume a visit kept in the session, or end it when the person
    may no longer be there (authorization revoked, tenant frozen, moved out of scope)."""
    g.ymcs_acting = None
    stored = session.get("act_as")
    if not stored or not current_user.is_authenticated:
        return None
    try:
        g.ymcs_acting = acting.resume(db.session, _actor(), current_user.username, stored)
    except (scope.OutOfScope, acting.ActAsRefused) as ended:
        session.pop("act_as", None)
        message = _translated(ended) if isinstance(ended, acting.ActAsRefused) else ""
        flash(gettext("Your visit has ended. %(why)s", why=message), "warning")
        if request.endpoint != "DashboardView.index":
            return redirect(url_for("DashboardView.index"))
    return None


class AuthorizationView(BaseView):
    """The enterprise's side: the first-login prompt and "Authorized Channels"."""

    route_base = "/authorization"
    default_view = "channels"

    def _own_enterprise(self):
        # A channel visiting the enterprise must not answer for it.
        if g.get("ymcs_acting") is not None:
            abort(403)
        principal = scope.current_principal()
        if principal.enterprise_id is None:
            abort(404)
        enterprise = scope.get_or_404(db.session, Enterprise, principal.enterprise_id)
        if not enterprise.has_master_admin or enterprise.permission_type == PermissionType.rps:
            abort(404)
        return enterprise

    @expose("/", methods=["GET"])
    @has_access
    def channels(self):
        enterprise = self._own_enterprise()
        return self.render_template("authorization/channels.html", enterprise=enterprise)

    @expose("/prompt", methods=["GET"])
    @has_access
    def prompt(self):
        enterprise = self._own_enterprise()
        return self.render_template("authorization/prompt.html", enterprise=enterprise)

    @expose("/answer", methods=["POST"])
    @has_access
    def answer(self):
        enterprise = self._own_enterprise()
        choice = request.form.get("choice")
        if choice not in ("accept", "reject"):
            abort(400, description="Choose accept or reject.")
        try:
            tenants.answer_authorization(enterprise, current_user._get_current_object(),
                                         choice == "accept",
                                         visiting=g.get("ymcs_acting") is not None)
        except tenants.TenantError as refused:
            abort(403, description=str(refused))
        if choice == "accept":
            message = gettext("%(channel)s may manage your devices.",
                              channel=enterprise.channel.name)
        else:
            message = gettext("%(channel)s may no longer manage your devices.",
                              channel=enterprise.channel.name)
        db.session.commit()
        flash(message, "success")
        return redirect(request.form.get("next") == "home" and url_for("DashboardView.index")
                        or url_for(".channels"))


_OPEN_WHILE_PROMPTED = {"AuthorizationView.prompt", "AuthorizationView.answer", "static",
                        "appbuilder.static", "YmcsAuthDBView.logout", "LocaleView.index",
                        "AccountSettingsView.password"}


def prompt_for_authorization():
    """Before each request of an enterprise admin who has not answered yet: the prompt."""
    if not current_user.is_authenticated or g.get("ymcs_acting") is not None:
        return None
    enterprise = getattr(current_user, "enterprise", None)
    if enterprise is None or not tenants.needs_authorization_answer(enterprise):
        return None
    if request.endpoint in _OPEN_WHILE_PROMPTED:
        return None
    if request.method != "GET":
        abort(403)
    return redirect(url_for("AuthorizationView.prompt"))


def authorized_channels_menu_shown():
    """Only an enterprise with a master administrator, signed in as itself, sees the menu."""
    if g.get("ymcs_acting") is not None or not current_user.is_authenticated:
        return False
    enterprise = getattr(current_user, "enterprise", None)
    return (enterprise is not None and enterprise.has_master_admin
            and enterprise.permission_type == PermissionType.device_management)
