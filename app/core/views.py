"""The base every list screen builds on: the scoped model view with the fast list, and the
small field and cell helpers the screens share."""

import pycountry
from flask import redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired, Optional

from app.core.form_fields import choices
from app.core.listing import FastListMixin
from app.core.scoped_view import ScopedModelView
from app.core.translate_defaults import lazy_country_name

# Each country named in the user's language (Babel's territory names) when the form renders.
COUNTRY_CHOICES = choices([("", "")] + [
    (c.alpha_2, lazy_country_name(c.alpha_2))
    for c in sorted(pycountry.countries, key=lambda c: c.name)])


def country_field(required=False):
    return SelectField(_l("Country/Area"), choices=COUNTRY_CHOICES,
                       validators=[DataRequired() if required else Optional()],
                       widget=Select2Widget())


def flag_field(label):
    # FAB makes a NOT NULL boolean a *required* checkbox, so "no" could never be submitted.
    return BooleanField(label, default=False)


def fmt_time(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class FastScopedModelView(FastListMixin, ScopedModelView):
    page_size = 50

    @expose("/list/")
    @has_access
    def list(self):
        return self.render_fast_list()

    # The fast list keeps no FAB page history: after a save, go back to the list.
    def post_add_redirect(self):
        return redirect(url_for(".list"))

    def post_edit_redirect(self):
        return redirect(url_for(".list"))

    def post_delete_redirect(self):
        return redirect(url_for(".list"))
