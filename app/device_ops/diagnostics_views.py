"""The device diagnostic page (spec chapter 6): one custom view, opened from a device's page
("Diagnose") or from an alarm (``/diagnostics/<device id>``, optionally ``?alarm=<id>``).

Every tool queues commands through commands.queue_command and wakes the device; the page polls
``/diagnostics/<id>/status`` (JSON with each tool's state as HTML) while something runs. Only
devices the principal manages (diagnostics.diagnosable_devices, through app/core/scope.py) are
reachable; anything else - the page, a command, a file - answers 404. POSTs are in the
operation log by app/core/oplog.py; downloads are logged here.
"""

import json

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    get_template_attribute,
    jsonify,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from app.core import oplog, scope
from app.device_ops import (
    charts,
    commands,
    connreq,
    diagnostics,
    diagnostics_files,
    inventory,
    vendor_map,
)
from app.extensions import db
from app.models import CommandStatus, DeviceSample, OutboxStatus, utcnow

CHART_SPAN_HOURS = 24
SAMPLES_MAX = 5000


def _actor():
    acting = g.get("ymcs_acting")
    return acting.actor_username if acting is not None else current_user.username


def _message(error):
    params = {k: gettext(v) if k == "field" else v for k, v in error.params.items()}
    return gettext(error.template, **params)


def _store():
    from app.exports.jobs import file_store_dir  # the one file store of exports and uploads

    return file_store_dir()


def _alarm_list_url():
    """The alarm list (End diagnosis goes back there) when the user may open it."""
    if current_app.appbuilder.sm.has_access("can_list", "AlarmModelView"):
        return url_for("AlarmModelView.list")
    return None


class DiagnosticsView(BaseView):
    route_base = "/diagnostics"
    default_view = "show"
    base_permissions = ["can_show", "can_run"]
    method_permission_name = {"show": "show", "status": "show", "file": "show",
                              "backups_zip": "show", "run": "run"}

    def _device(self, pk):
        try:
            return diagnostics.device_or_raise(db.session, pk)
        except scope.OutOfScope:
            abort(404)

    # -- the page ---------------------------------------------------------------------------
    @expose("/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        device = self._device(pk)
        context = self._context(device)
        end_url = _alarm_list_url() or url_for("DeviceModelView.show", pk=device.id)
        return self.render_template("diagnostics/page.html", end_url=end_url, **context)

    def _context(self, device):
        support = current_app.config.get("DIAGNOSIS_SUPPORT_ADDRESS") or ""
        refusals = {tool: diagnostics.tool_refusal(device, tool, support)
                    for tool in diagnostics.TOOLS}
        can_run = self.appbuilder.sm.has_access("can_run", self.class_permission_name)
        latest = diagnostics.latest_by_tool(db.session, device)
        parameters = _parameters(device)
        parameters.update(diagnostics.pending_values(sorted(
            (c for rows in latest.values() for c in rows), key=lambda c: c.id, reverse=True)))
        return {
            "device": device, "tools": diagnostics.TOOLS, "can_run": can_run,
            "refusals": {t: gettext(r[0], **r[1]) if r else None for t, r in refusals.items()},
            "states": self._states(device, latest),
            "parameters": parameters, "root": device.data_model or "Device",
            "vendor_name": lambda key: vendor_map.name(device.data_model, key),
            "modules": vendor_map.MODULES, "levels": diagnostics.LEVELS,
            "max_sizes": diagnostics.LOCAL_MAX_SIZES, "transports": diagnostics.TRANSPORTS,
            "facilities": diagnostics.FACILITIES, "http_methods": diagnostics.HTTP_METHODS,
            "post_modes": diagnostics.POST_MODES,
            "capture_interfaces": diagnostics.CAPTURE_INTERFACES,
            "capture_types": diagnostics.CAPTURE_TYPES,
            "config_exports": diagnostics.CONFIG_EXPORTS, "ping_counts": diagnostics.PING_COUNTS,
            "default_host": diagnostics.default_host(current_app.config.get("ACS_PUBLIC_URL"),
                                                     request.host),
            "log_backup": diagnostics.log_backup_on(db.session, device),
            "log_models": diagnostics.LOG_SETTINGS_MODELS,
            "log_minimum": diagnostics.LOG_SETTINGS_MINIMUM_TEXT,
            "exported": _exported_levels(device), "support_address": support,
        }

    def _states(self, device, latest=None):
        """{tool: {"html": ..., "busy": bool}}: each tool's latest command and result."""
        if latest is None:
            latest = diagnostics.latest_by_tool(db.session, device)
        macro = get_template_attribute("diagnostics/_tools.html", "state")
        states = {}
        for tool in diagnostics.TOOLS:
            rows = latest.get(tool, [])
            extra = self._tool_extra(device, tool, rows)
            busy = any(c.status in diagnostics.BUSY for c in rows[:3]) or extra.get("busy")
            states[tool] = {"html": str(macro(tool, device, [_row(device, c) for c in rows[:1]],
                                              extra)),
                            "busy": bool(busy)}
        return states

    def _tool_extra(self, device, tool, rows):
        if tool in ("backups", "recordings"):
            files = [_row(device, c) for c in rows
                     if c.kind == "upload" and c.status == CommandStatus.done and c.file_name]
            return {"files": files[:50]}
        if tool == "capture":
            values = _parameters(device)
            return {"status": diagnostics.capture_status(values, device.data_model),
                    "status_raw": values.get(vendor_map.name(device.data_model,
                                                             "capture.status")),
                    "file": next((_row(device, c) for c in rows if c.kind == "upload"
                                  and c.file_name), None)}
        if tool == "cpu":
            return _cpu(device)
        if tool == "assist":
            history = diagnostics_files.assistance_history(db.session, device)
            return {"requests": history,
                    "busy": any(status == OutboxStatus.pending for _r, status in history)}
        return {}

    @expose("/<pk>/status", methods=["GET"])
    @has_access
    def status(self, pk):
        device = self._device(pk)
        states = self._states(device)
        return jsonify(tools=states, online=bool(device.online),
                       busy=any(s["busy"] for t, s in states.items() if t != "assist"),
                       mail_pending=states["assist"]["busy"])

    # -- running a tool -----------------------------------------------------------------------
    @expose("/<pk>/run/<tool>", methods=["POST"])
    @has_access
    def run(self, pk, tool):
        device = self._device(pk)
        if tool not in diagnostics.TOOLS:
            abort(404)
        support = current_app.config.get("DIAGNOSIS_SUPPORT_ADDRESS") or ""
        form = request.form
        try:
            diagnostics.check_tool(device, tool, support)
            queued = self._queue(device, tool, form, support)
        except (diagnostics.DiagnosticsError, commands.CommandError) as error:
            db.session.rollback()
            flash(_message(error), "danger")
            return redirect(url_for(".show", pk=device.id, _anchor=f"tool-{tool}"))
        db.session.commit()
        if queued:
            self._wake(device, queued)
        return redirect(url_for(".show", pk=device.id, _anchor=f"tool-{tool}"))

    def _queue(self, device, tool, form, support):
        """Queue what ``tool`` asks of the device; returns the commands' labels ([] when the
        tool changed only the platform's side)."""
        root, by = device.data_model or "Device", _actor()

        def queue(kind, arguments):
            commands.queue_command(db.session, device, kind, arguments, by=by)

        action = form.get("action", "")
        if tool == "network":
            kind, arguments = diagnostics.network_arguments(
                form, diagnostics.default_host(current_app.config.get("ACS_PUBLIC_URL"),
                                               request.host))
            queue(kind, arguments)
        elif tool == "syslog":
            queue("upload", {"file_type": vendor_map.file_type("syslog")})
        elif tool == "config":
            queue("upload", {"file_type": diagnostics.config_file_type(form)})
        elif tool == "cpu":
            queue("get_parameters", {"names": diagnostics.cpu_read_names(device)})
        elif tool == "log_settings" and form.get("section") == "data_backup":
            on = form.get("log_backup") in ("1", "on")
            diagnostics.set_log_backup(db.session, device, on, by=by)
            queue("set_parameters", {"values": diagnostics.log_data_backup_values(on, root)})
            flash(gettext("Log data backup is on: the platform keeps a backup of the device's "
                          "log every day, for 7 days.") if on else
                  gettext("Log data backup is off."), "success")
        elif tool == "log_settings" and action == "read":
            queue("get_parameters", {"names": diagnostics.log_settings_names(root)})
        elif tool == "log_settings":
            queue("set_parameters", {"values": diagnostics.log_settings_values(
                form, root, current_app.config["SECRET_KEY"])})
        elif tool == "backups":
            queue("upload", {"file_type": vendor_map.file_type("backup_log")})
        elif tool == "capture" and action == "stop":
            queue("set_parameters", {"values": diagnostics.capture_stop_values(root)})
            queue("upload", {"file_type": vendor_map.file_type("capture")})
            queue("get_parameters", {"names": diagnostics.capture_status_names(root)})
        elif tool == "capture" and action == "read":
            queue("get_parameters", {"names": diagnostics.capture_status_names(root)})
        elif tool == "capture":
            queue("set_parameters", {"values": diagnostics.capture_start_values(form, root)})
            queue("get_parameters", {"names": diagnostics.capture_status_names(root)})
        elif tool == "screenshot":
            queue("upload", {"file_type": vendor_map.file_type("screenshot")})
        elif tool == "recordings" and action == "switch":
            queue("set_parameters", {"values": diagnostics.recording_switch_values(form, root)})
        elif tool == "recordings":
            queue("upload", {"file_type": vendor_map.file_type("recording")})
        elif tool == "assist":
            description = str(form.get("description") or "").strip()
            if not description:
                raise diagnostics.DiagnosticsError(diagnostics.NO_DESCRIPTION)
            diagnostics_files.send_assistance(
                db.session, device, description[:diagnostics.MAX_DESCRIPTION], support, by,
                _store(), {"subject": gettext("Diagnosis assistance"),
                           "device": gettext("Device"), "files": gettext("Latest files")})
            flash(gettext("Your request was put in the mail outbox for %(address)s; its "
                          "status below shows when it has gone.", address=support), "success")
            return []
        return [tool]

    def _wake(self, device, _queued):
        config = current_app.config
        woken = connreq.wake_device(
            device, timeout=config["CONNECTION_REQUEST_TIMEOUT"],
            networks=connreq.parse_networks(config["CONNECTION_REQUEST_NETWORKS"]),
            allow_loopback=config["CONNECTION_REQUEST_ALLOW_LOOPBACK"])
        flash(gettext("Sent to the device's queue.") + " " + gettext(woken.template,
                                                                     **woken.params),
              "success" if woken.ok else "warning")

    # -- files ----------------------------------------------------------------------------------
    @expose("/<pk>/file/<command_id>", methods=["GET"])
    @has_access
    def file(self, pk, command_id):
        """A file the device uploaded: streamed, under our name and our type (from its magic
        bytes); images and audio may be shown in the page (``?inline=1``)."""
        device = self._device(pk)
        try:
            command = diagnostics.command_or_raise(db.session, device, command_id)
        except scope.OutOfScope:
            abort(404)
        path = diagnostics_files.stored_path(_store(), command)
        if path is None:
            abort(404)
        mime = diagnostics_files.mime_of(path)
        inline = request.args.get("inline") == "1" and mime in ("image/png", "audio/wav")
        oplog.record_download(200)
        return send_file(path, mimetype=mime, as_attachment=not inline, max_age=0,
                         download_name=diagnostics_files.download_name(device, command, path))

    @expose("/<pk>/backups.zip", methods=["GET"])
    @has_access
    def backups_zip(self, pk):
        """Several backup logs as one zip, streamed as it is written."""
        device = self._device(pk)
        entries = []
        for raw in request.args.getlist("ids")[:50]:
            try:
                command = diagnostics.command_or_raise(db.session, device, raw)
            except scope.OutOfScope:
                abort(404)
            path = diagnostics_files.stored_path(_store(), command)
            if path is None or diagnostics.upload_kind(command) != "backup_log":
                abort(404)
            entries.append((path, diagnostics_files.download_name(device, command, path)))
        if not entries:
            flash(gettext("Choose the backup logs to download."), "warning")
            return redirect(url_for(".show", pk=device.id, _anchor="tool-backups"))
        oplog.record_download(200)
        name = f"{device.mac or f'device{device.id}'}-backup-logs-{utcnow():%Y%m%d}.zip"
        return Response(diagnostics_files.stream_zip(entries), mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


def _row(device, command):
    """A command as the tools' templates show it."""
    try:
        result = commands.result_of(command)
    except ValueError:
        result = None
    file_url = (url_for("DiagnosticsView.file", pk=device.id, command_id=command.id)
                if command.file_name and command.status == CommandStatus.done else None)
    return {"command": command, "result": result, "file_url": file_url,
            "kind": diagnostics.upload_kind(command), "label": _label(device, command)}


def _label(device, command):
    arguments = json.loads(command.arguments or "{}")
    if command.kind == "ping":
        return gettext("Ping %(host)s", host=arguments.get("host", ""))
    if command.kind == "traceroute":
        return gettext("Trace route to %(host)s", host=arguments.get("host", ""))
    if command.kind == "upload":
        kind = vendor_map.file_kind(arguments.get("file_type"))
        return gettext(diagnostics.CONFIG_EXPORTS[kind]) if kind in (
            diagnostics.CONFIG_EXPORTS) else gettext("Upload")
    if command.kind == "set_parameters":
        return gettext("Settings sent")
    if vendor_map.name(device.data_model, "capture.status") in (arguments.get("names") or []):
        return gettext("Capture state read")
    return gettext("Current values read")


def _parameters(device):
    try:
        values = json.loads(device.parameters) if device.parameters else {}
    except ValueError:
        values = {}
    return values if isinstance(values, dict) else {}


def _exported_levels(device):
    """[(module, module level, local level → exported, syslog level → exported)] from the
    values last read or set: the spec's rule min(module level, local/syslog level)."""
    values, root = _parameters(device), device.data_model
    local = values.get(vendor_map.name(root, "local.level"))
    syslog = values.get(vendor_map.name(root, "syslog.level"))
    rows = []
    for module in vendor_map.MODULES[1:]:
        level = values.get(vendor_map.name(root, f"module.{module}"))
        rows.append((module, level, diagnostics.exported_level(level, local),
                     diagnostics.exported_level(level, syslog)))
    return {"local": local, "syslog": syslog, "rows": rows}


def _cpu(device):
    """Latest CPU/memory, the detailed memory text, and the CPU and Memory charts (24 h)."""
    import datetime

    end = utcnow()
    start = end - datetime.timedelta(hours=CHART_SPAN_HOURS)
    samples = db.session.execute(
        select(DeviceSample.taken_on, DeviceSample.cpu_usage, DeviceSample.memory_total,
               DeviceSample.memory_free)
        .where(DeviceSample.device_id == device.id, DeviceSample.taken_on >= start)
        .order_by(DeviceSample.taken_on.desc()).limit(SAMPLES_MAX)).all()
    points = charts.usage_points(samples)
    gap = datetime.timedelta(seconds=2 * max(device.periodic_interval or 0, 60) + 60)
    cpu_chart = memory_chart = None
    if points:
        labels = {"title": gettext("CPU usage"), "cpu": gettext("CPU"),
                  "memory": gettext("Memory used")}
        cpu_chart = charts.usage_chart([(t, c, None) for t, c, _m in points], start, end,
                                       labels, gap=gap)
        memory_chart = charts.usage_chart([(t, None, m) for t, _c, m in points], start, end,
                                          {**labels, "title": gettext("Memory usage")}, gap=gap)
    detail = _parameters(device).get(vendor_map.name(device.data_model, "memory.detail"))
    return {"cpu": device.cpu_usage,
            "memory": charts.memory_used_percent(device.memory_total, device.memory_free),
            "memory_total": device.memory_total, "memory_free": device.memory_free,
            "detail": detail, "cpu_chart": cpu_chart, "memory_chart": memory_chart,
            "read_on": device.parameters_read_on,
            "metric_names": inventory.metric_names(device.data_model or "Device")}
