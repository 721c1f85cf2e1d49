"""Device Configuration: Enterprise Configuration, Channel Configuration (templates, Save and
Push, timer tasks). Spec: "Managing Configuration". Executed Task is in task_views.py.

Thin views: rules in rules.py / pushes.py, what is shown in queries.py; every template,
enterprise and channel is looked up through queries.py (scope), and out of scope is a 404.
"""

import datetime
import functools
import zoneinfo

from flask import Response, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.configs import pushes, queries, rules
from app.configs.tables import ConfigTemplate
from app.configs.wake import wake_in_background
from app.core import scope
from app.extensions import db
from app.models import AccountKind, Channel, Enterprise, utcnow

TARGET_OPTIONS_MAX = 300


def actor():
    """(the person's login, the tenant they work in or None): who pushed, as whom."""
    acting = g.get("ymcs_acting")
    if acting is not None:
        return acting.actor_username, acting.name
    return current_user.username, None


def message(error):
    return gettext(error.template, **error.params)


def page_arg():
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def default_zone():
    """The zone timer tasks are entered in: the principal's channel's (or its nearest
    ancestor's), else CONFIG_TIME_ZONE."""
    principal = scope.current_principal()
    zone = queries.channel_time_zone(db.session, principal.channel_id) \
        if principal.is_channel else None
    return zone or current_app.config["CONFIG_TIME_ZONE"]


def known_zone(value):
    value = (value or "").strip()
    if value and len(value) <= 64:
        try:
            zoneinfo.ZoneInfo(value)
            return value
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return None


def time_zone_name(value):
    """A known IANA zone name, or the default."""
    return known_zone(value) or default_zone()


def scheduled_moment(text, zone):
    """The naive UTC moment of a local "YYYY-MM-DDTHH:MM" in ``zone``; None when empty."""
    text = (text or "").strip().replace(" ", "T")
    if not text:
        return None
    try:
        local = datetime.datetime.strptime(text[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        raise rules.ConfigError(rules.BAD_TIME) from None
    aware = local.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return aware.astimezone(datetime.UTC).replace(tzinfo=None)


@functools.lru_cache(maxsize=1)
def zone_names():
    return sorted(zoneinfo.available_timezones())


class TemplateViewBase(BaseView):
    """Templates of one kind: "enterprise" (for an enterprise of the subtree) or "channel"
    (for the channel itself)."""

    kind = "enterprise"
    title = _l("Enterprise Configuration")
    default_view = "list"
    base_permissions = ["can_list", "can_add", "can_edit", "can_delete", "can_download",
                        "can_push"]
    method_permission_name = {"list": "list", "add": "add", "edit": "edit", "delete": "delete",
                              "download": "download", "push": "push", "targets": "list",
                              "timezone": "edit"}

    # -- lookups (scope) ----------------------------------------------------------------------
    def _principal(self):
        return scope.current_principal()

    def _template_or_404(self, pk):
        template = queries.template_or_none(db.session, self._principal(), self.kind, pk)
        if template is None:
            abort(404)
        return template

    def _target_or_404(self, pk):
        lookup = (queries.target_enterprise_or_none if self.kind == "enterprise"
                  else queries.target_channel_or_none)
        target = lookup(db.session, self._principal(), pk)
        if target is None:
            abort(404)
        return target

    def _fixed_target(self):
        """The one target a channel master's channel templates have: its own channel."""
        if self.kind == "channel" and self._principal().kind == AccountKind.channel_master:
            return db.session.get(Channel, self._principal().channel_id)
        return None

    def _can(self, permission):
        return self.appbuilder.sm.has_access(permission, self.class_permission_name)

    # -- the list -----------------------------------------------------------------------------
    @expose("/list/", methods=["GET"])
    @has_access
    def list(self):
        q = (request.args.get("q") or "").strip()[:128]
        page = page_arg()
        rows, has_next = queries.template_list(db.session, self._principal(), self.kind, q,
                                               page)
        fixed = self._fixed_target()
        return self.render_template(
            "configs/templates.html", title=self.title, kind=self.kind, rows=rows, q=q,
            page=page, has_next=has_next, zone_channel=fixed,
            zone=default_zone() if fixed else None, zones=zone_names() if fixed else [],
            can={p: self._can("can_" + p) for p in ("add", "edit", "delete", "download",
                                                     "push")})

    @expose("/targets", methods=["GET"])
    @has_access
    def targets(self):
        """The target box's search: enterprises (or channels) in scope by name prefix."""
        q = (request.args.get("q") or "").strip()[:128]
        rows = self._target_options(q, 21)
        return jsonify(results=[{"id": r.id, "text": r.name} for r in rows[:20]],
                       pagination={"more": len(rows) > 20})

    def _target_options(self, q="", limit=TARGET_OPTIONS_MAX + 1):
        principal = self._principal()
        if self.kind == "enterprise":
            query = select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_(queries.template_enterprise_ids(principal)))
            model = Enterprise
        else:
            ids = queries.template_channel_ids(principal)
            query = select(Channel.id, Channel.name)
            query = query if ids is None else query.where(Channel.id.in_(ids))
            model = Channel
        if q:
            from app.core.listing import like_pattern

            query = query.where(model.name.like(like_pattern(q), escape="\\"))
        return db.session.execute(query.order_by(model.name).limit(limit)).all()

    # -- add / edit ---------------------------------------------------------------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return self._form(None)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        return self._form(self._template_or_404(pk))

    def _form(self, template):
        fixed = self._fixed_target()
        values = {"name": "", "model_filter": "", "body": rules.VERSION_LINE + "\n",
                  "target": fixed.id if fixed else request.args.get("target", ""),
                  "push_at": "", "time_zone": default_zone()}
        if template is not None:
            values.update(name=template.name, model_filter=template.model_filter,
                          body=template.body,
                          target=template.enterprise_id or template.channel_id)
        errors, status = [], 200
        if request.method == "POST":
            form = request.form
            values.update(name=form.get("name", "")[:512], model_filter=form.get(
                "model_filter", "")[:1024], body=form.get("body", ""),
                push_at=form.get("push_at", "")[:32],
                time_zone=time_zone_name(form.get("time_zone")))
            if template is None and fixed is None:
                values["target"] = scope.parse_pk(form.get("target")) or ""
            target = (template.channel or template.enterprise) if template is not None \
                else (fixed or (self._target_or_404(values["target"]) if values["target"]
                                else None))
            errors, saved = self._save(template, target, values)
            if not errors:
                return self._after_save(saved, target, values)
            status = 400
        target_name = ""
        if template is not None:
            target_name = (template.channel or template.enterprise).name
        elif values["target"]:
            found = self._target_or_404(values["target"])
            target_name = found.name
        return self.render_template(
            "configs/template_form.html", title=self.title, kind=self.kind, item=template,
            values=values, errors=errors, target_name=target_name, fixed=fixed,
            options=None if template is not None or fixed else self._target_options(),
            variables=[(k, gettext(v)) for k, v in rules.VARIABLES.items()],
            zones=zone_names(), can_push=self._can("can_push")), status

    def _save(self, template, target, values):
        """Validate and save: ([], the template) when saved, else (the errors, None) and
        nothing saved."""
        errors = []
        try:
            name = rules.clean_name(values["name"])
        except rules.ConfigError as error:
            errors.append(rules.LineError(-1, message(error)))
            name = None
        try:
            models = rules.clean_model_filter(values["model_filter"])
        except rules.ConfigError as error:
            errors.append(rules.LineError(-1, message(error)))
        if target is None:
            errors.append(rules.LineError(-1, gettext("Choose the target.")))
        errors += [rules.LineError(e.line, gettext(e.template, **e.params))
                   for e in rules.validate_template(values["body"])]
        if name and target is not None and self._name_taken(template, target, name):
            errors.append(rules.LineError(-1, gettext(rules.SAME_NAME, target=target.name,
                                                      name=name)))
        if errors:
            db.session.rollback()
            return errors, None
        login, _acting = actor()
        if template is None:
            template = ConfigTemplate(created_by=login)
            if self.kind == "enterprise":
                template.enterprise = target
            else:
                template.channel = target
            db.session.add(template)
        template.name, template.model_filter = name, models
        template.body = rules.normalized_body(values["body"])
        template.updated_on, template.updated_by = utcnow(), login
        db.session.flush()
        return [], template

    def _name_taken(self, template, target, name):
        column = (ConfigTemplate.enterprise_id if self.kind == "enterprise"
                  else ConfigTemplate.channel_id)
        query = select(ConfigTemplate.id).where(column == target.id,
                                                ConfigTemplate.name == name)
        if template is not None:
            query = query.where(ConfigTemplate.id != template.id)
        return db.session.execute(query.limit(1)).first() is not None

    def _after_save(self, template, target, values):
        if request.form.get("action") != "save_push":
            db.session.commit()
            flash(gettext("%(name)s was saved.", name=template.name), "success")
            return redirect(url_for(".list"))
        if not self._can("can_push"):
            abort(403)
        db.session.commit()  # saved whatever the push decides
        return self._push(template, values, saved=True)

    # -- push ---------------------------------------------------------------------------------
    @expose("/push/<pk>", methods=["GET", "POST"])
    @has_access
    def push(self, pk):
        """GET: the confirmation naming the target, with an optional time; POST: push."""
        template = self._template_or_404(pk)
        values = {"push_at": request.form.get("push_at", "")[:32],
                  "time_zone": time_zone_name(request.form.get("time_zone"))}
        if request.method == "POST":
            return self._push(template, values)
        return self.render_template("configs/push_confirm.html", title=self.title,
                                    item=template, values=values,
                                    target=(template.channel or template.enterprise),
                                    zones=zone_names())

    def _push(self, template, values, saved=False):
        login, acting_as = actor()
        try:
            when = scheduled_moment(values["push_at"], values["time_zone"])
            if when is not None:
                push = pushes.schedule(template, when, values["time_zone"], by=login,
                                       acting_as=acting_as)
                db.session.add(push)
                pushes.check_target(db.session, None if push.enterprise_id else
                                    push.channel_id, push.enterprise_id)
            else:
                push = pushes.new_push(template, by=login, acting_as=acting_as)
                pushes.push_now(db.session, push)
        except rules.ConfigError as error:
            db.session.rollback()
            flash((gettext("%(name)s was saved but not pushed.", name=template.name) + " "
                   if saved else "") + message(error), "danger")
            if saved:
                return redirect(url_for(".list"))
            return redirect(url_for(".push", pk=template.id))
        db.session.commit()
        if when is not None:
            flash(gettext("The push of %(name)s to %(target)s is scheduled for %(when)s "
                          "(%(zone)s).", name=template.name, target=push.target_name,
                          when=values["push_at"].replace("T", " "),
                          zone=values["time_zone"]), "success")
        else:
            wake_in_background(current_app._get_current_object(), push.id)
            flash(gettext("%(name)s was pushed to %(n)s devices of %(target)s.",
                          name=template.name, n=push.devices, target=push.target_name),
                  "success")
        return redirect(url_for("ExecutedTaskView.show", pk=push.id))

    @expose("/timezone", methods=["POST"])
    @has_access
    def timezone(self):
        """Set the time zone of the principal's own channel (Channel Configuration only)."""
        channel = self._fixed_target()
        zone = known_zone(request.form.get("time_zone"))
        if channel is None:
            abort(404)
        if zone is None:
            flash(gettext("Choose a time zone."), "danger")
        else:
            queries.set_channel_time_zone(db.session, channel.id, zone)
            db.session.commit()
            flash(gettext("Timer tasks of %(name)s are now entered in %(zone)s.",
                          name=channel.name, zone=zone), "success")
        return redirect(url_for(".list"))

    # -- download / delete --------------------------------------------------------------------
    @expose("/download/<pk>", methods=["GET"])
    @has_access
    def download(self, pk):
        template = self._template_or_404(pk)
        response = Response(template.body, mimetype="text/plain")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{rules.download_name(template.name)}"')
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/delete/<pk>", methods=["POST"])
    @has_access
    def delete(self, pk):
        template = self._template_or_404(pk)
        name = template.name
        pushes.delete_template(db.session, template)
        db.session.commit()
        flash(gettext("%(name)s was deleted; its executed tasks are kept.", name=name),
              "success")
        return redirect(url_for(".list"))


class EnterpriseConfigView(TemplateViewBase):
    route_base = "/enterpriseconfig"
    kind = "enterprise"
    title = _l("Enterprise Configuration")


class ChannelConfigView(TemplateViewBase):
    route_base = "/channelconfig"
    kind = "channel"
    title = _l("Channel Configuration")
