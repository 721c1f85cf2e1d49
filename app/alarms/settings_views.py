"""Enterprise Alarm Settings (spec: "Editing the Alarm Strategies"): the enterprises in scope,
each with a pencil; its strategy is enabled or not, which severities and types it takes, who
receives its mail and whether mail goes at all. The rules are app/alarms/rules.py."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, gettext
from flask_login import current_user
from sqlalchemy import select

from app.alarms import rules
from app.alarms.types import SEVERITIES
from app.alarms.views import SEVERITY_TEXT
from app.core import scope
from app.core.listing import like_pattern
from app.extensions import db
from app.models import AlarmReceiver, AlarmSetting, Enterprise, PermissionType

PAGE_SIZE = 50


def settings_scope(query, principal=None):
    """Device-management enterprises whose devices (so whose alarms) the principal sees."""
    ids = scope.device_enterprise_ids(principal or scope.current_principal())
    query = query.where(Enterprise.permission_type == PermissionType.device_management)
    return query if ids is None else query.where(Enterprise.id.in_(ids))


class AlarmSettingsView(BaseView):
    route_base = "/alarmsettings"
    default_view = "list"
    base_permissions = ["can_list", "can_edit"]
    method_permission_name = {"list": "list", "edit": "edit"}

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        q = (request.args.get("q") or "").strip()[:128]
        after = scope.parse_pk(request.args.get("after"))
        query = settings_scope(select(Enterprise.id, Enterprise.name, AlarmSetting.enabled,
                                      AlarmSetting.email_enabled, AlarmSetting.severities)
                               .outerjoin(AlarmSetting,
                                          AlarmSetting.enterprise_id == Enterprise.id))
        if q:
            query = query.where(Enterprise.name.like(like_pattern(q), escape="\\"))
        if after:
            query = query.where(Enterprise.id > after)
        rows = db.session.execute(query.order_by(Enterprise.id).limit(PAGE_SIZE + 1)).all()
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        receivers = {}
        if rows:
            for eid, n in db.session.execute(
                    select(AlarmReceiver.enterprise_id, db.func.count())
                    .where(AlarmReceiver.enterprise_id.in_([r.id for r in rows]))
                    .group_by(AlarmReceiver.enterprise_id)):
                receivers[eid] = n
        return self.render_template(
            "alarms/settings_list.html", rows=rows, receivers=receivers, q=q,
            next_url=url_for(".list", q=q or None, after=rows[-1].id) if more else None,
            severity_text={k: str(v[0]) for k, v in SEVERITY_TEXT.items()},
            can_edit=self.appbuilder.sm.has_access("can_edit", self.class_permission_name))

    def _enterprise_or_404(self, pk):
        pk = scope.parse_pk(pk)
        enterprise = pk and db.session.execute(
            settings_scope(select(Enterprise).where(Enterprise.id == pk))).scalar()
        if not enterprise:
            abort(404)
        return enterprise

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        enterprise = self._enterprise_or_404(pk)
        principal = scope.current_principal()
        candidates = rules.receiver_candidates(db.session, principal, enterprise)
        row = db.session.execute(select(AlarmSetting).where(
            AlarmSetting.enterprise_id == enterprise.id)).scalar()
        strategy = rules.strategy_from_row(row)
        types = list(rules.alarm_types(db.session).values())
        values = {"enabled": strategy.enabled, "email": strategy.email,
                  "severities": set(strategy.severities),
                  "codes": set(strategy.codes) if strategy.codes is not None
                  else {t.code for t in types},
                  "receivers": rules.receivers_of(db.session, enterprise.id)}
        status = 200
        if request.method == "POST":
            form = request.form
            values = {"enabled": form.get("enabled") == "1", "email": form.get("email") == "1",
                      "severities": set(form.getlist("severity")),
                      "codes": set(form.getlist("type")),
                      "receivers": set(form.getlist("receiver"))}
            try:
                rules.save_setting(db.session, principal, enterprise,
                                   enabled=values["enabled"], severities=values["severities"],
                                   codes=values["codes"], receiver_ids=values["receivers"],
                                   email=values["email"], by=self._actor())
            except scope.OutOfScope:
                db.session.rollback()
                abort(404)  # a receiver id of another tree was forged into the form
            except rules.AlarmError as error:
                db.session.rollback()
                flash(gettext(error.template, **error.params), "danger")
                status = 400
            else:
                db.session.commit()
                flash(gettext("The alarm settings of %(name)s were saved.",
                              name=enterprise.name), "success")
                return redirect(url_for(".list"))
        language = str(get_locale() or "en")
        chosen = {str(r) for r in values["receivers"]}
        return self.render_template(
            "alarms/settings_edit.html", enterprise=enterprise, values=values,
            severities=[(s, str(SEVERITY_TEXT[s][0]), SEVERITY_TEXT[s][1]) for s in SEVERITIES],
            types=[(t.code, t.name(language), t.severity) for t in types],
            candidates=[(a.id, a.username, str(a.id) in chosen) for a in candidates],
            list_url=url_for(".list")), status

    @staticmethod
    def _actor():
        acting = g.get("ymcs_acting")
        return acting.actor_username if acting is not None else current_user.username
