"""Alarm Management: the alarm list (filters, details, acknowledge/clear, log download, charts)
and the bell. Enterprise Alarm Settings are in settings_views.py.

Every alarm is reached through queries.visible_alarms (app/core/scope.py underneath); out of
scope answers 404, and a bulk action with one forged id changes nothing.
"""

import datetime
import os
import time

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import false, select

from app.alarms import charts, queries, rules
from app.core import scope
from app.core.listing import Col, ListFilter, like_pattern
from app.core.scoped_view import ScopedInterface
from app.core.show import format_mac
from app.core.views import FastScopedModelView, fmt_time
from app.extensions import db
from app.models import (
    AccountKind,
    Alarm,
    Device,
    DeviceCommand,
    Enterprise,
)

SEVERITY_TEXT = {"critical": (_l("Critical"), "danger"), "major": (_l("Major"), "warning"),
                 "minor": (_l("Minor"), "info")}
STATUS_TEXT = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "cleared": _l("Cleared")}
CHART_SECONDS = 300
MAC_IDS_MAX = 50  # the most devices a MAC search names as constants
_chart_cache = {}  # (database URL, principal, language) -> (until, charts)


def _value(enum_or_text):
    return getattr(enum_or_text, "value", enum_or_text)


def _language():
    return str(get_locale() or "en")


def _type_name(type_id):
    info = rules.type_by_id(db.session, type_id)
    return info.name(_language()) if info else ""


def severity_badge(severity):
    text, css = SEVERITY_TEXT.get(_value(severity), (severity, "default"))
    return Markup(f'<span class="label label-{css}">{escape(str(text))}</span>')


def _actor():
    acting = g.get("ymcs_acting")
    return acting.actor_username if acting is not None else current_user.username


def _parse_day(raw):
    try:
        return datetime.date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None


_COLS = [
    Col("severity", _l("Severity"), lambda a: severity_badge(a.severity)),
    Col("type", _l("Alarm Type"), lambda a: _type_name(a.type_id)),
    Col("mac", _l("MAC"), lambda a: format_mac(a.mac) or "—"),
    Col("model", _l("Model"), lambda a: a.model or "—"),
    Col("enterprise", _l("Enterprise"), lambda a: a.enterprise_name or ""),
    Col("first_at", _l("First Time"), lambda a: fmt_time(a.first_at), Alarm.first_at),
    Col("last_at", _l("Latest Time"), lambda a: fmt_time(a.last_at), Alarm.last_at),
    Col("count", _l("Times"), lambda a: a.count),
    Col("status", _l("Status"), lambda a: STATUS_TEXT.get(_value(a.status), a.status)),
    Col("description", _l("Description"), lambda a: a.description),
]


class AlarmModelView(FastScopedModelView):
    route_base = "/alarms"
    datamodel = ScopedInterface(Alarm, narrow=queries.visible_alarms)
    list_title = _l("Alarms")
    fast_list_template = "alarms/list.html"
    base_permissions = ["can_list", "can_show"]
    method_permission_name = {"list": "list", "show": "show", "log": "show", "charts": "list",
                              "enterprises": "list", "bell_seen": "list"}
    list_cols = _COLS

    @property
    def list_filters(self):
        if not has_request_context():  # FAB looks at every attribute while registering
            return []
        language = _language()
        types = rules.alarm_types(db.session).values()
        return [
            ListFilter("severity", _l("Severity"),
                       [(k, v[0]) for k, v in SEVERITY_TEXT.items()],
                       lambda q, v: q.where(Alarm.severity == v)),
            ListFilter("type", _l("Alarm Type"), [(str(t.id), t.name(language)) for t in types],
                       lambda q, v: q.where(Alarm.type_id == int(v))),
            ListFilter("status", _l("Status"), list(STATUS_TEXT.items()),
                       lambda q, v: q.where(Alarm.status == v)),
        ]

    def parse_list_request(self):
        req = super().parse_list_request()
        compact = req.q.replace(":", "").replace("-", "").replace(".", "").lower()
        # Only a MAC (or its start) is searched: the list's search box is the MAC filter.
        req.q = compact if compact and all(ch in "0123456789abcdef" for ch in compact) else ""
        enterprise_id = scope.parse_pk(request.args.get("enterprise"))
        if enterprise_id:
            req.filters["enterprise"] = str(enterprise_id)
        for key in ("from", "to"):
            day = _parse_day(request.args.get(key))
            if day:
                req.filters[key] = day.isoformat()
        if ("from" in req.filters or "to" in req.filters) and "sort" not in request.args:
            # A time range lists by latest time: its index then both finds and orders the
            # rows (by id, a range of a day 15 days back was found by walking 2.5M ids: 3 s).
            req.sort, req.desc = "last_at", request.args.get("dir") != "asc"
        return req

    def apply_search(self, query, req):
        if req.q:
            query = query.where(Alarm.device_id.in_(self._devices_of_mac(req.q)))
        for flt in self.list_filters:
            if flt.key in req.filters:
                query = flt.apply(query, req.filters[flt.key])
        if "enterprise" in req.filters:
            chosen = self._chosen_enterprise(req)
            query = query.where(Alarm.enterprise_id == chosen.id if chosen else false())
        if "from" in req.filters:
            query = query.where(Alarm.last_at >= datetime.datetime.fromisoformat(
                req.filters["from"]))
        if "to" in req.filters:
            end = datetime.datetime.fromisoformat(req.filters["to"]) + datetime.timedelta(days=1)
            query = query.where(Alarm.last_at < end)
        return query

    def _devices_of_mac(self, prefix):
        """The ids of the devices whose MAC starts so (once a request): a few constants are
        found through the alarms' (device_id, id) index; a subquery would be taken for a
        scope and walked in id order (8 s at 5M alarms). A short prefix matching more devices
        keeps the subquery."""
        cached = g.get("_ymcs_alarm_macs")
        if cached is None or cached[0] != prefix:
            macs = select(Device.id).where(Device.mac.like(like_pattern(prefix), escape="\\"))
            ids = db.session.execute(macs.limit(MAC_IDS_MAX + 1)).scalars().all()
            cached = g._ymcs_alarm_macs = (prefix, ids if len(ids) <= MAC_IDS_MAX else macs)
        return cached[1]

    def _chosen_enterprise(self, req):
        pk = req.filters.get("enterprise")
        cached = g.get("_ymcs_alarm_enterprise")
        if cached is None or cached[0] != pk:
            try:
                chosen = scope.get_or_raise(db.session, Enterprise, pk) if pk else None
            except scope.OutOfScope:
                chosen = None
            cached = g._ymcs_alarm_enterprise = (pk, chosen)
        return cached[1]

    def list_count(self, session, req):
        count, capped = super().list_count(session, req)
        g._ymcs_alarms_many = capped
        return count, capped

    def list_base_query(self):
        # A big scope's page walks the alarms newest first and checks the scope per row
        # (queries.walk_newest_first); left alone MariaDB sorted every alarm in scope (1.3 s
        # for a channel seeing 200k). A small scope keeps the listing's own plan.
        principal = scope.current_principal()
        big = principal.is_channel and (g.get("_ymcs_alarms_many") or (
            request.args and self.scope_is_big(db.session, self.parse_list_request())))
        query = (select(Alarm.id, Alarm.severity, Alarm.status, Alarm.type_id, Alarm.count,
                        Alarm.first_at, Alarm.last_at, Alarm.description, Device.mac,
                        Device.model, Enterprise.name.label("enterprise_name"))
                 .outerjoin(Device, Device.id == Alarm.device_id)
                 .outerjoin(Enterprise, Enterprise.id == Alarm.enterprise_id))
        query = queries.listed_alarms(db.session, query, principal)
        return queries.walk_newest_first(query) if big else query

    def list_count_query(self):
        return queries.listed_alarms(db.session, select(Alarm.id), scope.current_principal())

    def list_extra_context(self, req):
        return {"chosen_enterprise": self._chosen_enterprise(req),
                "enterprise_filter": scope.current_principal().kind != AccountKind.enterprise,
                "day_from": req.filters.get("from", ""), "day_to": req.filters.get("to", "")}

    @expose("/enterprises", methods=["GET"])
    @has_access
    def enterprises(self):
        """The enterprise filter's search: enterprises in scope by name prefix."""
        q = (request.args.get("q") or "").strip()[:128]
        query = scope.visible_enterprises(select(Enterprise.id, Enterprise.name))
        if q:
            query = query.where(Enterprise.name.like(like_pattern(q), escape="\\"))
        rows = db.session.execute(query.order_by(Enterprise.name).limit(21)).all()
        return jsonify(results=[{"id": r.id, "text": r.name} for r in rows[:20]],
                       pagination={"more": len(rows) > 20})

    # -- details ----------------------------------------------------------------------------------
    def _alarm_or_404(self, pk):
        pk = scope.parse_pk(pk)
        alarm = pk and db.session.execute(
            queries.visible_alarms(select(Alarm).where(Alarm.id == pk))).scalar()
        if not alarm:
            abort(404)
        return alarm

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        alarm = self._alarm_or_404(pk)
        command = alarm.log_command
        sm = self.appbuilder.sm
        return self.render_template(
            "alarms/show.html", alarm=alarm, type_name=_type_name(alarm.type_id),
            severity=severity_badge(alarm.severity),
            status=STATUS_TEXT.get(_value(alarm.status), alarm.status),
            log_url=url_for(".log", pk=alarm.id) if command and command.file_name else None,
            log_waiting=bool(command and not command.file_name),
            diagnose_url=url_for("DiagnosticsView.show", pk=alarm.device_id)
            if sm.has_access("can_show", "DiagnosticsView") else None,
            can_ack=sm.has_access("acknowledge", self.class_permission_name),
            can_clear=sm.has_access("clear", self.class_permission_name),
            list_url=url_for(".list"))

    @expose("/log/<pk>", methods=["GET"])
    @has_access
    def log(self, pk):
        """The log the device uploaded for this alarm (crash, no response, kernel panic)."""
        from app.exports.jobs import file_store_dir  # the one file store of exports and uploads

        alarm = self._alarm_or_404(pk)
        command = alarm.log_command_id and db.session.get(DeviceCommand, alarm.log_command_id)
        if not command or not command.file_name or command.device_id != alarm.device_id:
            abort(404)
        root = os.path.realpath(file_store_dir())
        path = os.path.realpath(os.path.join(root, command.file_name))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            abort(404)
        mac = alarm.device.mac or f"device{alarm.device_id}"
        return send_file(path, as_attachment=True, max_age=0, mimetype="text/plain",
                         download_name=f"{mac}-alarm{alarm.id}.log")

    # -- acknowledge / clear (one from the details, many from the list) --------------------------
    def _apply(self, items, rule, done_message):
        items = items if isinstance(items, list) else [items]
        try:
            # The items were scope-checked by action/action_post; the rule checks again.
            n = rule(db.session, scope.current_principal(), [i.id for i in items], _actor())
        except scope.OutOfScope:
            db.session.rollback()
            abort(404)
        db.session.commit()
        flash(done_message(n), "success")
        if len(items) == 1 and request.referrer and "/show/" in request.referrer:
            return redirect(url_for(".show", pk=items[0].id))
        return redirect(url_for(".list"))

    @action("acknowledge", _l("Acknowledge"), _l("Acknowledge the selected alarms?"),
            "fa-check")
    def acknowledge(self, items):
        return self._apply(items, rules.acknowledge_alarms,
                           lambda n: gettext("Acknowledged: %(n)s.", n=n))

    @action("clear", _l("Clear"), _l("Clear the selected alarms?"), "fa-eraser")
    def clear(self, items):
        return self._apply(items, rules.clear_alarms,
                           lambda n: gettext("Cleared: %(n)s.", n=n))

    # -- charts -------------------------------------------------------------------------------
    @expose("/charts", methods=["GET"])
    @has_access
    def charts(self):
        """The page's charts (fetched after the list: they never slow it), remembered
        CHART_SECONDS per principal and language."""
        principal = scope.current_principal()
        language = _language()
        key = (str(db.engine.url), principal, language)
        now = time.monotonic()
        hit = _chart_cache.get(key)
        if not hit or hit[0] <= now:
            if len(_chart_cache) > 2000:
                _chart_cache.clear()
            hit = _chart_cache[key] = (now + CHART_SECONDS, self._draw_charts(principal))
        return self.render_template("alarms/_charts.html", **hit[1])

    def _draw_charts(self, principal):
        labels = {"title": gettext("Alarms per day"), "top": gettext("Top alarm types"),
                  **{k: str(v[0]) for k, v in SEVERITY_TEXT.items()}}
        start, counts, top_ids = queries.chart_counts(db.session, principal)
        top = []
        for type_id, n in top_ids:
            info = rules.type_by_id(db.session, type_id)
            if info:
                top.append((info.name(_language()), info.severity, n))
        return {"per_day": charts.per_day_chart(start, counts, queries.CHART_DAYS, labels),
                "top_types": charts.top_types_chart(top, labels), "labels": labels,
                "empty": not counts}

    # -- the bell -------------------------------------------------------------------------------
    @expose("/bell/seen", methods=["POST"])
    @has_access
    def bell_seen(self):
        """The user opened the bell: its alarms are no longer new."""
        newest = scope.parse_pk(request.form.get("newest"))
        if newest is None:
            return jsonify(error="newest must be an alarm id"), 400
        queries.mark_bell_opened(db.session, scope.current_principal(), newest)
        db.session.commit()
        return jsonify(new=0)


def bell():
    """The navbar's bell (a Jinja global): None for whoever may not list alarms."""
    if not current_user.is_authenticated:
        return None
    if not current_app.appbuilder.sm.has_access("can_list", "AlarmModelView"):
        return None
    principal = scope.current_principal()
    data = queries.bell(db.session, principal)
    language = _language()
    rows = []
    for r in data.rows:
        css = SEVERITY_TEXT.get(_value(r.severity), ("", "default"))[1]
        rows.append({"id": r.id, "css": css, "mac": format_mac(r.mac) or "—",
                     "name": r.name_zh if language.startswith("zh") else r.name_en,
                     "time": fmt_time(r.last_at), "count": r.count})
    return {"rows": rows, "new": data.new, "more": data.new > queries.BELL_NEW_CAP,
            "newest": data.newest_id}
