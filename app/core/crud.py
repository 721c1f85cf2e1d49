"""What every add, edit and delete of a ModelView says, and a failed save that keeps the form.

Flask-AppBuilder flashes "Added Row" / "Changed Row" / "Deleted Row", and when ``pre_add`` or
``pre_update`` refuses it flashes the refusal and redirects to the list: what was typed is lost
and the error is not at its field. ``SavedMessagesMixin`` runs the same steps with two
differences: success says what happened to what ("Enterprise Kaixin Trading added"), and a
refusal re-shows the form with the typed values, the error at its field when the refusal names
one (an exception with a ``field`` attribute), else as a message above the form.
"""

import logging

from flask import abort, flash, request
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.urltools import (
    get_filter_args,
    get_order_args,
    get_page_args,
    get_page_size_args,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# A rule's refusal (our domain errors are ValueErrors) or the database's; anything else is a
# bug and answers 500 rather than a message that hides it.
_REFUSALS = (ValueError, SQLAlchemyError, DatabaseException)


def added_text(what, name, mailed_to=None):
    """"Enterprise Kaixin Trading added" (+ "; its temporary password was mailed to …")."""
    if mailed_to:
        return gettext("%(what)s %(name)s added; its temporary password was mailed to "
                       "%(email)s.", what=what, name=name, email=mailed_to)
    return gettext("%(what)s %(name)s added.", what=what, name=name)


def changed_text(what, name):
    return gettext("%(what)s %(name)s saved.", what=what, name=name)


def deleted_text(what, name):
    return gettext("%(what)s %(name)s deleted.", what=what, name=name)


NAMED_MAX = 3  # a message names this many rows, then says how many more


def names_text(names, shown=NAMED_MAX):
    """Rows as a message names them: "a, b, c" or "a, b, c and 4 more"."""
    names = [str(n) for n in names]
    listed = ", ".join(names[:shown])
    if len(names) <= shown:
        return listed
    return gettext("%(names)s and %(n)s more", names=listed, n=len(names) - shown)


class SavedMessagesMixin:
    """Put before the ModelView class. ``noun`` names the kind of row ("Enterprise");
    ``item_name(item)`` the row; override the ``*_message`` methods to say more."""

    noun = _l("Record")

    def item_name(self, item):
        return str(getattr(item, "name", None) or item)

    def added_message(self, item):
        return added_text(self.noun, self.item_name(item))

    def changed_message(self, item):
        return changed_text(self.noun, self.item_name(item))

    def deleted_message(self, name):
        return deleted_text(self.noun, name)

    # -- the save steps ---------------------------------------------------------------------
    def _refused(self, form, error):
        """Undo the half-done change; put the refusal at its field or above the form."""
        self.datamodel.session.rollback()
        if isinstance(error, (SQLAlchemyError, DatabaseException)):
            log.exception("saving %s failed", self.noun)
            message = gettext("%(what)s could not be saved: the database refused it. "
                              "Nothing was changed.", what=self.noun)
        else:
            message = str(error)
        field = getattr(form, getattr(error, "field", None) or "", None) if form else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "danger")

    def _add(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                try:
                    form.populate_obj(item)
                    self.pre_add(item)
                    self.datamodel.add(item)
                    self.post_add(item)
                except _REFUSALS as error:
                    self._refused(form, error)
                else:
                    flash(self.added_message(item), "success")
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        pages, page_sizes, orders = get_page_args(), get_page_size_args(), get_order_args()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk  # FAB's Unique validator and ours read it
            if form.validate():
                self.process_form(form, False)
                try:
                    form.populate_obj(item)
                    self.pre_update(item)
                    self.datamodel.edit(item)
                    self.post_update(item)
                except _REFUSALS as error:
                    self._refused(form, error)
                    item = self.datamodel.get(pk, self._base_filters)
                else:
                    flash(self.changed_message(item), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(item, filters={}, orders=orders, pages=pages,
                                               page_sizes=page_sizes, widgets=widgets)

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        name = self.item_name(item)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
            self.post_delete(item)
        except _REFUSALS as error:
            self._refused(None, error)
        else:
            flash(self.deleted_message(name), "success")
        self.update_redirect()
