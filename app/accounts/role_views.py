"""The platform administrator's Roles screen, in the channel screens' look: permissions named
as people say them and grouped by screen (app/accounts/permission_names.py), not FAB's
"can add on EnterpriseModelView". The add and edit forms tick them in boxes, one group per
screen; the show page lists them the same way.
"""

from flask import render_template
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import PermissionView, Role
from flask_appbuilder.security.views import RoleModelView
from flask_appbuilder.widgets import ShowWidget
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.permission_names import grouped
from app.accounts.roles import role_label
from app.core.crud import SavedMessagesMixin
from app.core.form_fields import QuerySelectMultipleField
from app.core.listing import Col, FastListMixin
from app.core.show import ReadableShowMixin
from app.extensions import db


def _all_permissions():
    return db.session.execute(select(PermissionView).options(
        selectinload(PermissionView.permission), selectinload(PermissionView.view_menu))
    ).scalars().all()


class GroupedCheckboxes:
    """A checkbox per permission, in one group per screen; ticked = held by the role. The
    boxes post the permission views' ids under the field's name, as FAB's select did."""

    def __call__(self, field, **kwargs):
        held = {pv.id for pv in field.data or ()}
        groups = [(screen, actions, all(pv.id in held for _label, pv in actions))
                  for screen, actions in grouped(pv for _pk, pv in field._get_object_list())]
        return Markup(render_template("security/role_permissions.html", field=field,
                                      groups=groups, held=held))


class PermissionsField(QuerySelectMultipleField):
    widget = GroupedCheckboxes()


def _summary(role, shown=4):
    groups = grouped(role.permissions)
    text = ", ".join(screen for screen, _actions in groups[:shown])
    return text + (f" … (+{len(groups) - shown})" if len(groups) > shown else "")


class YmcsRoleModelView(SavedMessagesMixin, FastListMixin, ReadableShowMixin, RoleModelView):
    show_widget = ShowWidget  # the readable show page, not FAB's role widget
    noun = _l("Role")  # saves say which role (app/core/crud.py)
    list_title = _l("Roles")
    list_cols = [
        Col("name", _l("Name"), lambda r: role_label(r.name)),
        Col("screens", _l("Screens"), lambda r: _summary(r)),
        Col("count", _l("Permissions"), lambda r: len(r.permissions)),
    ]
    search_exprs = [Role.name]
    search_contains = True
    default_sort = ("id", False)
    label_columns = {"name": _l("Name"), "permissions": _l("Permissions")}
    add_form_extra_fields = edit_form_extra_fields = {
        "permissions": PermissionsField(_l("Permissions"), query_func=_all_permissions,
                                        get_pk_func=lambda pv: pv.id),
    }

    @expose("/list/")
    @has_access
    def list(self):
        return self.render_fast_list()

    def list_base_query(self):
        return select(Role).options(
            selectinload(Role.permissions).selectinload(PermissionView.permission),
            selectinload(Role.permissions).selectinload(PermissionView.view_menu))

    def show_value(self, item, column):
        if column != "permissions":
            return super().show_value(item, column)
        parts = [Markup('<div class="ymcs-permission-held"><strong>{}</strong>: {}</div>').format(
            screen, ", ".join(label for label, _pv in actions))
            for screen, actions in grouped(item.permissions)]
        return Markup("").join(parts) or "—"
