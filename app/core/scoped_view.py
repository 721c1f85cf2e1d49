"""Scope applied at the depth FAB cannot bypass: its data interface.

``ScopedInterface`` narrows every query FAB builds through a view's datamodel (list, show,
edit, delete, the items of bulk actions, the options of relationship dropdowns, related
lookups) with app/core/scope.py. ``ScopedModelView`` adds what the interface cannot express:
out-of-scope ids answer 404 (FAB would flash and redirect), a bulk action with any forged id
changes nothing, and no GET request changes state.
"""

from flask import abort, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access

from app.core import scope
from app.core.crud import SavedMessagesMixin
from app.core.form_fields import ChoiceFieldsMixin
from app.core.show import ReadableShowMixin


class Interface(SQLAInterface):
    """FAB's interface, with Session.get() where FAB uses Query.get() (legacy since
    SQLAlchemy 2.0): the object a related-view or relation filter names."""

    def get_related_obj(self, col_name, value):
        return self.session.get(self.get_related_model(col_name), value)


class ScopedInterface(Interface):
    """``narrow`` replaces the model's default scope, e.g. channels a channel may manage
    (below itself) rather than all it sees. Related dropdowns use the default scope."""

    def __init__(self, obj, session=None, narrow=None):
        super().__init__(obj, session)
        self._narrow = narrow

    def apply_filters(self, query, filters):
        query = super().apply_filters(query, filters)
        if self._narrow is not None:
            return self._narrow(query)
        return scope.narrow(self.obj, query)

    def get_related_interface(self, col_name):
        return ScopedInterface(self.get_related_model(col_name))

    def get_related_obj(self, col_name, value):
        model = self.get_related_model(col_name)
        if not scope.is_scoped(model):
            return super().get_related_obj(col_name, value)
        try:
            return scope.get_or_raise(self.session, model, value)
        except scope.OutOfScope:
            return None


def _require_visible(view, pk):
    pk = scope.parse_pk(pk)
    if pk is None or view.datamodel.get(pk) is None:
        abort(404)


class ScopedModelView(SavedMessagesMixin, ReadableShowMixin, ChoiceFieldsMixin, ModelView):
    """Base for every tenant-data ModelView (saves say what they did: app/core/crud.py)."""

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        _require_visible(self, pk)
        return super().show.__wrapped__(self, pk)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        _require_visible(self, pk)
        return super().edit.__wrapped__(self, pk)

    @expose("/delete/<pk>", methods=["POST"])
    @has_access
    def delete(self, pk):
        _require_visible(self, pk)
        return super().delete.__wrapped__(self, pk)

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        _require_visible(self, pk)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(400, description="Unknown action.")
        pks = request.form.getlist("rowid")
        if not pks:
            abort(400, description="Select at least one row.")
        # One forged or vanished id refuses the whole batch: nothing changes.
        for pk in pks:
            _require_visible(self, pk)
        return super().action_post()
