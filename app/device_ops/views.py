"""Device Management: Platform Device (the list, a device's page, its commands) and Device
Access (what phones give the ACS). Spec: "Managing Devices".

Views parse and render. The command queue's rules are in commands.py, the connection request
in connreq.py, the chart in charts.py; every device, command and enterprise is reached
through app/core/scope.py, and out of scope answers 404.
"""

import dataclasses
import datetime
import functools
import json
import os
import time

from flask import abort, current_app, flash, g, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case, false, literal_column, select, union_all

from app.configs.effective import effective_configuration
from app.core import scope
from app.core.listing import Col, ListFilter, like_pattern
from app.core.scoped_view import ScopedInterface
from app.core.show import LazyBadge, format_mac
from app.core.views import FastScopedModelView, fmt_time
from app.device_ops import auth, capabilities, charts, commands, connreq, inventory
from app.device_ops.provisioning import acs_url
from app.device_ops.search import device_search
from app.extensions import db
from app.models import (
    AccountKind,
    Channel,
    ChannelClosure,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceSample,
    Enterprise,
    PermissionType,
    utcnow,
)
from app.tenancy.rules import TenantError

ENTERPRISE_OPTIONS_MAX = 300  # more than this: the enterprise box searches as you type
MODEL_CHOICES_MAX = 200
MODEL_CHOICES_SECONDS = 60
HISTORY_PAGE_SIZE = 20
SAMPLES_MAX = 20_000  # a week of one-minute samples; the chart averages them per pixel
RANGES = {"24h": (datetime.timedelta(hours=24), _l("24 hours")),
          "7d": (datetime.timedelta(days=7), _l("7 days"))}

# The form fields each kind of command reads (commands.clean_arguments checks them).
FORM_FIELDS = {
    "get_parameters": ("names",),
    "set_parameters": ("values",),
    "download": ("file_type", "url"),
    "upload": ("file_type",),
    "reboot": (),
    "ping": ("host", "count"),
    "traceroute": ("host", "max_hops"),
}
STATUS_TEXT = {
    CommandStatus.queued: (_l("Queued"), "info"),
    CommandStatus.sent: (_l("Sent to the device"), "primary"),
    CommandStatus.waiting: (_l("Waiting for the device"), "primary"),
    CommandStatus.done: (_l("Done"), "success"),
    CommandStatus.failed: (_l("Failed"), "danger"),
}
# commands.py names the field of a number it refuses in English; these are the form's labels.
FIELD_LABELS = {"Count": _l("Count"), "Max hops": _l("Max hops")}


def _actor_login():
    """Who asked, for the command history: the person, also while working in a tenant."""
    acting = g.get("ymcs_acting")
    return acting.actor_username if acting is not None else current_user.username


def _message(error):
    params = {k: str(FIELD_LABELS.get(v, v)) if k == "field" else v
              for k, v in error.params.items()}
    return gettext(error.template, **params)


def _enterprise_search(query):
    """Select2's JSON: enterprises of ``query`` whose name starts with ``q``."""
    q = (request.args.get("q") or "").strip()[:128]
    if q:
        query = query.where(Enterprise.name.like(like_pattern(q), escape="\\"))
    rows = db.session.execute(query.order_by(Enterprise.name).limit(21)).all()
    return jsonify(results=[{"id": r.id, "text": r.name} for r in rows[:20]],
                   pagination={"more": len(rows) > 20})


# --- the list ----------------------------------------------------------------------------------

def _via_ancestor(below):
    cc = ChannelClosure
    return (select(Channel.name).join(cc, cc.ancestor_id == Channel.id)
            .where(cc.descendant_id == Enterprise.channel_id, below)
            .correlate(Enterprise).limit(1).scalar_subquery())


@functools.lru_cache(maxsize=1024)
def _via_of_channel(channel_id):
    # Built once per viewing channel (the list is the busiest page): SQL, not data.
    return case((Enterprise.channel_id == channel_id, Enterprise.name),
                else_=_via_ancestor(Channel.parent_id == channel_id)).label("via")


_VIA_ADMIN = _via_ancestor(Channel.parent_id.is_(None)).label("via")
_VIA_NONE = literal_column("''").label("via")


def via_column(principal):
    """The "Sub-channel / Enterprise" cell: what is just below the viewer on the way to the
    device's enterprise — for channel A → B → C → enterprise E, A sees B, B sees C, C sees E;
    the platform sees the top-level channel. A correlated subquery over the closure table,
    evaluated for the page's rows only."""
    if principal.is_admin:
        return _VIA_ADMIN
    return _via_of_channel(principal.channel_id) if principal.is_channel else _VIA_NONE


_model_cache = {}  # (database URL, principal) -> (until, [models])
_MODEL_CACHE_MAX = 5000


def _models_seen(session, principal):
    """The catalogue of every device's model through the (model, id) index (a loose scan),
    then, unless the principal sees everything, one probe per model in one statement: the
    first device of that model in scope. Reading the distinct models of a channel's scope
    read every device in it (860,000 rows at 1M devices: seconds, minutes on a busy disk)."""
    catalogue = [m for m in session.execute(
        select(Device.model).distinct().order_by(Device.model)
        .limit(MODEL_CHOICES_MAX + 1)).scalars() if m]
    if not catalogue or scope.device_enterprise_ids(principal) is None:
        return catalogue[:MODEL_CHOICES_MAX]
    if len(catalogue) > MODEL_CHOICES_MAX:  # a long catalogue: the scope's own, as it comes
        query = scope.visible_devices(select(Device.model).distinct(), principal)
        return [m for m in session.execute(
            query.order_by(Device.model).limit(MODEL_CHOICES_MAX + 1)).scalars() if m][
            :MODEL_CHOICES_MAX]
    probes = [scope.visible_devices(select(Device.model).where(Device.model == m),
                                    principal).limit(1).subquery() for m in catalogue]
    seen = set(session.execute(union_all(*[select(p.c.model) for p in probes])).scalars())
    return [m for m in catalogue if m in seen][:MODEL_CHOICES_MAX]


def model_choices(session, principal):
    """The distinct models of the devices the principal sees (the platform administrator:
    read through the (model, id) index), remembered for a minute per database and principal:
    another tenant's models are its business, not a catalogue."""
    key = (str(session.get_bind().url), principal)
    now = time.monotonic()
    cached = _model_cache.get(key)
    if cached and cached[0] > now:
        return cached[1]
    models = _models_seen(session, principal)
    if len(_model_cache) >= _MODEL_CACHE_MAX:  # many principals: drop what has expired
        for stale in [k for k, (until, _m) in _model_cache.items() if until <= now]:
            del _model_cache[stale]
    _model_cache[key] = (now + MODEL_CHOICES_SECONDS, models)
    return models


ONLINE, OFFLINE = LazyBadge(_l("Online"), "success"), LazyBadge(_l("Offline"), "default")
_COLS = [
    # a device known by its DeviceId only shows its serial number until its MAC is read
    Col("mac", _l("MAC"), lambda d: format_mac(d.mac) or f"— ({d.serial})", Device.mac),
    Col("model", _l("Model"), lambda d: d.model, Device.model),
    Col("firmware", _l("Firmware"), lambda d: d.firmware),
    Col("ip", _l("IP Address"), lambda d: d.ip),
    Col("online", _l("Status"), lambda d: ONLINE if d.online else OFFLINE),
    Col("enterprise", _l("Enterprise"), lambda d: d.enterprise_name or ""),
    Col("via", _l("Sub-channel / Enterprise"), lambda d: d.via),
    Col("last_seen", _l("Last Seen"), lambda d: fmt_time(d.last_seen)),
]
_COLS_OF_ENTERPRISE = [c for c in _COLS if c.key != "via"]  # an enterprise sees only its own


class DeviceModelView(FastScopedModelView):
    datamodel = ScopedInterface(Device)
    list_title = _l("Platform Device")
    fast_list_template = "devices/list.html"
    base_permissions = ["can_list", "can_show", "can_command"]
    # Whoever sees a device sees its uploaded files; queueing and retrying is "command".
    # Registering a MAC and removing a device are managing devices too ("command").
    method_permission_name = {"list": "list", "show": "show", "enterprises": "list",
                              "command": "command", "retry": "command",
                              "command_file": "show", "register": "command",
                              "register_enterprises": "command", "remove": "command"}
    search_exprs = [Device.mac, Device.model, Device.ip]
    list_filters = [ListFilter("online", _l("Status"), [("1", _l("Online")), ("0", _l("Offline"))],
                               lambda q, v: q.where(Device.online == (v == "1")))]

    @property
    def list_cols(self):
        if scope.current_principal().kind == AccountKind.enterprise:
            return _COLS_OF_ENTERPRISE
        return _COLS

    def parse_list_request(self):
        req = super().parse_list_request()
        model = request.args.get("model", "").strip()
        if model and len(model) <= 64:
            req.filters["model"] = model
        enterprise_id = scope.parse_pk(request.args.get("enterprise"))
        if enterprise_id:
            req.filters["enterprise"] = str(enterprise_id)
        return req

    def apply_search(self, query, req):
        if req.q:
            query = device_search(query, req.q)
            req = dataclasses.replace(req, q="")
        query = super().apply_search(query, req)
        if "model" in req.filters:
            query = query.where(Device.model == req.filters["model"])
        if "enterprise" in req.filters:
            chosen = self._chosen_enterprise(req)
            # An enterprise out of scope is no error: its devices are simply not shown.
            query = query.where(Device.enterprise_id == chosen.id if chosen else false())
        return query

    def _chosen_enterprise(self, req):
        """The enterprise the list is filtered by, if the principal sees it (once a request)."""
        pk = req.filters.get("enterprise")
        cached = g.get("_ymcs_device_enterprise")
        if cached is None or cached[0] != pk:
            try:
                chosen = scope.get_or_raise(db.session, Enterprise, pk) if pk else None
            except scope.OutOfScope:
                chosen = None
            cached = g._ymcs_device_enterprise = (pk, chosen)
        return cached[1]

    def list_extra_context(self, req):
        models = model_choices(db.session, scope.current_principal())
        chosen_model = req.filters.get("model", "")
        if chosen_model and chosen_model not in models:
            models = [chosen_model, *models]
        return {"models": models, "chosen_model": chosen_model,
                "can_register": self.appbuilder.sm.has_access("can_command",
                                                              self.class_permission_name),
                "chosen_enterprise": self._chosen_enterprise(req),
                "enterprise_filter": scope.current_principal().kind != AccountKind.enterprise}

    def list_base_query(self):
        # Plain rows, not Device objects: the biggest list skips the ORM's object building.
        # The sub-channel column is a subquery the database runs for the page's rows only.
        principal = scope.current_principal()
        query = select(Device.id, Device.mac, Device.serial, Device.model, Device.firmware,
                       Device.ip, Device.online, Device.last_seen,
                       Enterprise.name.label("enterprise_name"),
                       via_column(principal)).outerjoin(Device.enterprise)
        return scope.visible_devices(query, principal)

    def list_count_query(self):
        return scope.visible_devices(select(Device.id))

    @expose("/enterprises", methods=["GET"])
    @has_access
    def enterprises(self):
        """The enterprise filter's search: enterprises in scope by name prefix."""
        return _enterprise_search(scope.visible_enterprises(
            select(Enterprise.id, Enterprise.name)))

    # -- pre-registration and removal -----------------------------------------------------------
    @expose("/register", methods=["GET", "POST"])
    @has_access
    def register(self):
        """Bind a MAC to an enterprise before the phone connects (within its quota)."""
        principal = scope.current_principal()
        own = principal.kind == AccountKind.enterprise
        values = {"mac": request.form.get("mac", "").strip()[:64],
                  "enterprise": principal.enterprise_id if own
                  else scope.parse_pk(request.values.get("enterprise"))}
        enterprise = None
        if values["enterprise"]:
            enterprise = db.session.execute(access_scope(select(Enterprise).where(
                Enterprise.id == values["enterprise"]))).scalar()
            if enterprise is None:
                abort(404)
        if request.method == "POST":
            try:
                if enterprise is None:
                    raise inventory.DeviceError(inventory.NO_ENTERPRISE)
                device = inventory.preregister_device(db.session, enterprise, values["mac"])
            except TenantError as error:
                db.session.rollback()
                flash(_message(error), "danger")
            else:
                db.session.commit()
                flash(gettext("%(mac)s is registered to %(name)s: it may connect without "
                              "credentials.", mac=format_mac(device.mac),
                              name=enterprise.name), "success")
                return redirect(url_for(".show", pk=device.id))
        return self.render_template("devices/register.html", values=values,
                                    enterprise=enterprise, own=own,
                                    search_url=url_for(".register_enterprises"),
                                    list_url=url_for(".list")), (
            400 if request.method == "POST" else 200)

    @expose("/register/enterprises", methods=["GET"])
    @has_access
    def register_enterprises(self):
        return _enterprise_search(access_scope(select(Enterprise.id, Enterprise.name)))

    @expose("/remove/<pk>", methods=["POST"])
    @has_access
    def remove(self, pk):
        device = scope.get_or_404(db.session, Device, pk)
        mac = format_mac(device.mac)
        from app.exports.jobs import file_store_dir  # the one file store of exports and uploads

        files = inventory.remove_device(db.session, device.id)
        db.session.commit()
        inventory.delete_stored_files(file_store_dir(), files)
        flash(gettext("%(mac)s was removed.", mac=mac), "success")
        return redirect(url_for(".list"))

    # -- a device's page ------------------------------------------------------------------------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._render_device(scope.get_or_404(db.session, Device, pk))

    def _render_device(self, device, status=200, values=None, open_kind=None):
        range_key = request.args.get("range") if request.args.get("range") in RANGES else "24h"
        try:
            page = max(1, min(int(request.args.get("page", 1)), 10_000))
        except ValueError:
            page = 1
        history = db.session.execute(
            select(DeviceCommand).where(DeviceCommand.device_id == device.id)
            .order_by(DeviceCommand.id.desc())
            .offset((page - 1) * HISTORY_PAGE_SIZE).limit(HISTORY_PAGE_SIZE + 1)).scalars().all()
        can_command = self.appbuilder.sm.has_access("can_command", self.class_permission_name)
        return self.render_template(
            "devices/show.html", device=device, parameters=_parameters_of(device),
            chart=_chart(device, range_key), ranges=RANGES, range_key=range_key,
            latest={"cpu": device.cpu_usage,
                    "memory": charts.memory_used_percent(device.memory_total,
                                                         device.memory_free),
                    "not_reported": device.cpu_usage is None and capabilities.not_reported(
                        device, inventory.metric_names(device.data_model or "Device"))},
            history=[_history_row(c, can_command) for c in history[:HISTORY_PAGE_SIZE]],
            page=page, has_next=len(history) > HISTORY_PAGE_SIZE,
            can_command=can_command, kinds=[(k, gettext(commands.KINDS[k]))
                                            for k in commands.USER_KINDS],
            download_types=commands.DOWNLOAD_TYPES, upload_types=commands.UPLOAD_TYPES,
            values=values or {"connect_now": True}, open_kind=open_kind or "get_parameters",
            effective=effective_configuration(db.session, device),
            list_url=url_for(".list")), status

    # -- commands ---------------------------------------------------------------------------
    @expose("/command/<pk>", methods=["POST"])
    @has_access
    def command(self, pk):
        """Queue a command for the device; with "Connect now", ask the device to come now."""
        device = scope.get_or_404(db.session, Device, pk)
        kind = request.form.get("kind", "")
        values = {f: request.form.get(f, "") for f in FORM_FIELDS.get(kind, ())}
        connect_now = request.form.get("connect_now") == "1"
        try:
            commands.queue_command(db.session, device, kind, values, by=_actor_login())
        except commands.CommandError as error:
            db.session.rollback()
            flash(_message(error), "danger")
            return self._render_device(device, 400, {**values, "connect_now": connect_now},
                                       kind if kind in FORM_FIELDS else None)
        db.session.commit()
        self._after_queueing(device, kind, connect_now)
        return redirect(url_for(".show", pk=device.id, _anchor="history"))

    @expose("/command/<pk>/retry", methods=["POST"])
    @has_access
    def retry(self, pk):
        """Queue a failed command again (a new entry) and ask the device to come now."""
        command = _command_or_404(pk)
        device = command.device
        try:
            commands.retry_command(db.session, command, by=_actor_login())
        except commands.CommandError as error:
            db.session.rollback()
            flash(_message(error), "danger")
        else:
            db.session.commit()
            self._after_queueing(device, command.kind, connect_now=True)
        return redirect(url_for(".show", pk=device.id, _anchor="history"))

    def _after_queueing(self, device, kind, connect_now):
        label = gettext(commands.KINDS[kind])
        if not connect_now:
            flash(gettext("%(command)s was queued; it runs at the device's next contact.",
                          command=label), "success")
            return
        config = current_app.config
        woken = connreq.wake_device(
            device, timeout=config["CONNECTION_REQUEST_TIMEOUT"],
            networks=connreq.parse_networks(config["CONNECTION_REQUEST_NETWORKS"]),
            allow_loopback=config["CONNECTION_REQUEST_ALLOW_LOOPBACK"])
        flash(gettext("%(command)s was queued.", command=label) + " "
              + gettext(woken.template, **woken.params), "success" if woken.ok else "warning")

    @expose("/command/<pk>/file", methods=["GET"])
    @has_access
    def command_file(self, pk):
        """The file a device uploaded for an Upload command."""
        from app.exports.jobs import file_store_dir  # the one file store of exports and uploads

        command = _command_or_404(pk)
        if not command.file_name:
            abort(404)
        root = os.path.realpath(file_store_dir())
        path = os.path.realpath(os.path.join(root, command.file_name))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            abort(404)  # never outside the store; pruned or not arrived
        extension = os.path.splitext(path)[1][:16]
        name = command.device.mac or f"device{command.device_id}"
        return send_file(path, as_attachment=True, max_age=0,
                         download_name=f"{name}-{command.id}{extension}",
                         mimetype="application/octet-stream")


def _command_or_404(pk):
    """A command of a device the principal sees, or 404."""
    pk = scope.parse_pk(pk)
    command = pk and db.session.execute(scope.visible_devices(
        select(DeviceCommand).join(Device, Device.id == DeviceCommand.device_id)
        .where(DeviceCommand.id == pk))).scalar()
    if not command:
        abort(404)
    return command


HIDDEN = "••••••"


def _shown(name, value):
    """A parameter's value as people see it: passwords never (the connection request
    password the ACS sets at bootstrap, SIP passwords someone set) — whoever needs one
    sets it anew."""
    return HIDDEN if "password" in str(name).lower() and value not in (None, "") else value


def _shown_values(values):
    return {name: _shown(name, value) for name, value in values.items()}


def _parameters_of(device):
    """The values last read, sorted by name ([] when none or unreadable)."""
    try:
        values = json.loads(device.parameters) if device.parameters else {}
    except ValueError:
        values = {}
    return sorted(_shown_values(values).items()) if isinstance(values, dict) else []


def _chart(device, range_key):
    span, _label = RANGES[range_key]
    end = utcnow()
    start = end - span
    samples = db.session.execute(
        select(DeviceSample.taken_on, DeviceSample.cpu_usage, DeviceSample.memory_total,
               DeviceSample.memory_free)
        .where(DeviceSample.device_id == device.id, DeviceSample.taken_on >= start)
        .order_by(DeviceSample.taken_on.desc()).limit(SAMPLES_MAX)).all()
    points = charts.usage_points(samples)
    if not points:
        return None
    # Samples come with each Inform: two missed periodic Informs break the line.
    gap = datetime.timedelta(seconds=2 * max(device.periodic_interval or 0, 60) + 60)
    labels = {"title": gettext("CPU and memory usage"), "cpu": gettext("CPU"),
              "memory": gettext("Memory used")}
    return charts.usage_chart(points, start, end, labels, gap=gap)


def _arguments_text(command, arguments):
    kind, a = command.kind, arguments
    if kind == "get_parameters":
        return ", ".join(a.get("names", []))
    if kind in ("set_parameters", "setup"):
        return "; ".join(f"{item[0]} = {_shown(item[0], item[1])}"
                         for item in a.get("values", []))
    if kind in ("download", "upload"):
        types = commands.DOWNLOAD_TYPES if kind == "download" else commands.UPLOAD_TYPES
        text = gettext(types.get(a.get("file_type"), a.get("file_type") or ""))
        if kind == "download":
            text += ": " + (a.get("url") or gettext("the device's provisioning file"))
        return text
    if kind == "ping":
        return gettext("%(host)s, %(count)s packets", host=a.get("host", ""),
                       count=a.get("count", ""))
    if kind == "traceroute":
        return gettext("%(host)s, at most %(hops)s hops", host=a.get("host", ""),
                       hops=a.get("max_hops", ""))
    return ""


def _history_row(command, can_command):
    try:
        arguments, result = commands.arguments_of(command), commands.result_of(command)
    except ValueError:
        arguments, result = {}, None
    if isinstance(result, dict) and isinstance(result.get("values"), dict):
        result = {**result, "values": _shown_values(result["values"])}
    status_text, status_class = STATUS_TEXT.get(command.status, (command.status, "default"))
    return {
        "command": command,
        "label": gettext(commands.KINDS[command.kind]) if command.kind in commands.KINDS
        else command.kind,
        "arguments": _arguments_text(command, arguments if isinstance(arguments, dict) else {}),
        "status": status_text, "status_class": status_class,
        "result": result,
        "retry": can_command and command.status == CommandStatus.failed,
        "file_url": url_for(".command_file", pk=command.id)
        if command.kind == "upload" and command.file_name else None,
    }


# --- Device Access -------------------------------------------------------------------------


def access_scope(query, principal=None):
    """Device-management enterprises whose phones the principal looks after: an enterprise
    its own; a channel those that authorize it (the rule that shows it their devices)."""
    ids = scope.device_enterprise_ids(principal or scope.current_principal())
    query = query.where(Enterprise.permission_type == PermissionType.device_management)
    return query if ids is None else query.where(Enterprise.id.in_(ids))


class DeviceAccessView(BaseView):
    """The ACS URL, provisioning URL, user name and password an enterprise's phones use.

    The password is made by a POST (Generate), never by opening the page: no GET changes
    state, and the enterprise is not given a password nobody asked for."""

    route_base = "/deviceaccess"
    default_view = "show"
    base_permissions = ["can_show", "can_generate"]
    method_permission_name = {"show": "show", "enterprises": "show", "generate": "generate"}

    def _enterprise_or_404(self, pk):
        pk = scope.parse_pk(pk)
        enterprise = pk and db.session.execute(
            access_scope(select(Enterprise).where(Enterprise.id == pk))).scalar()
        if not enterprise:
            abort(404)
        return enterprise

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        principal = scope.current_principal()
        wanted = request.args.get("enterprise") or (
            principal.enterprise_id if principal.kind == AccountKind.enterprise else None)
        enterprise = self._enterprise_or_404(wanted) if wanted else None
        options, searching = [], False
        if principal.kind != AccountKind.enterprise:
            options = db.session.execute(access_scope(
                select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)
                .limit(ENTERPRISE_OPTIONS_MAX + 1))).all()
            searching = len(options) > ENTERPRISE_OPTIONS_MAX
            options = [] if searching else options
        return self.render_template(
            "devices/access.html", enterprise=enterprise, options=options, searching=searching,
            choose=principal.kind != AccountKind.enterprise,
            acs_url=acs_url(),
            provisioning_url=request.host_url + "provisioning/",
            can_generate=self.appbuilder.sm.has_access("can_generate",
                                                       self.class_permission_name))

    @expose("/enterprises", methods=["GET"])
    @has_access
    def enterprises(self):
        return _enterprise_search(access_scope(select(Enterprise.id, Enterprise.name)))

    @expose("/generate/<pk>", methods=["POST"])
    @has_access
    def generate(self, pk):
        """Make the enterprise's ACS password if it has none (an existing one is kept: the
        phones already use it)."""
        enterprise = self._enterprise_or_404(pk)
        if enterprise.acs_password:
            flash(gettext("%(name)s already has a device password.", name=enterprise.name),
                  "info")
        else:
            auth.ensure_acs_password(db.session, enterprise)
            db.session.commit()
            flash(gettext("A device password was made for %(name)s.", name=enterprise.name),
                  "success")
        return redirect(url_for(".show", enterprise=enterprise.id))
