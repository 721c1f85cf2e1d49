"""Select fields in WTForms 3.3's terms, for our forms and the ones Flask-AppBuilder makes.

WTForms 3.3 deprecates select choices given as tuples and ``iter_choices()`` yielding tuples
(the tuples go in WTForms 3.4 and 4.0). Flask-AppBuilder 5.3 still does both: its
QuerySelectField and QuerySelectMultipleField (relations in add, edit and search forms) yield
tuples, its EnumField passes tuples, and its model converter makes a ``DateTimeField``, which
WTForms 3.4 removes. So our forms build choices with ``choices()``, name these fields, and
``ChoiceFieldsMixin`` puts them into the forms FAB's converter generates for a ModelView.
"""

from types import FunctionType

from flask_appbuilder import fields as fab
from flask_appbuilder import validators as fab_validators
from flask_babel import gettext
from wtforms import DateTimeField, DateTimeLocalField, SelectField
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.fields.core import UnboundField


def choices(pairs):
    """``[(value, label), ...]`` as the SelectChoice list a SelectField takes."""
    return [SelectChoice(value, label) for value, label in pairs]


class QuerySelectField(fab.QuerySelectField):
    """FAB's QuerySelectField, yielding Choice."""

    def iter_choices(self):
        if self.allow_blank:  # FAB's converter leaves the text empty: "__None" showed
            yield Choice("__None", self.blank_text or "—", self.data is None, {})
        for pk, obj in self._get_object_list():
            yield Choice(pk, self.get_label(obj), obj == self.data, {})


class QuerySelectMultipleField(fab.QuerySelectMultipleField):
    """FAB's QuerySelectMultipleField, yielding Choice."""

    def iter_choices(self):
        for pk, obj in self._get_object_list():
            yield Choice(pk, self.get_label(obj), obj in self.data, {})


class EnumField(fab.EnumField):
    """FAB's EnumField (a SQLAlchemy Enum column) with SelectChoice choices."""

    def __init__(self, enum_class, enums, label=None, validators=None, default=None, **kwargs):
        self._enum_class, self._enums = enum_class, enums
        if enum_class is not None:
            labels = [str(enum_class.__members__[name].value) for name in enums]

            def coerce(value):
                if value is None or isinstance(value, enum_class):
                    return value
                try:
                    return enum_class.__members__[value]
                except KeyError:  # a form error, not a 500
                    raise ValueError(value) from None
        else:
            labels = enums

            def coerce(value):
                return None if value is None else str(value)

        SelectField.__init__(self, label=label, validators=validators, default=default,
                             coerce=coerce, choices=choices(zip(enums, labels, strict=True)),
                             **kwargs)

    # WTForms' own check (FAB's reads the choices as pairs), with WTForms' translated message
    pre_validate = SelectField.pre_validate


# What FAB's converter makes -> ours. DateTimeField's widget is FAB's date-time picker either
# way (a text input); DateTimeLocalField parses the picker's "%Y-%m-%d %H:%M:%S" first too.
_OURS = {
    fab.QuerySelectField: QuerySelectField,
    fab.QuerySelectMultipleField: QuerySelectMultipleField,
    fab.EnumField: EnumField,
    DateTimeField: DateTimeLocalField,
}


class Unique(fab_validators.Unique):
    """FAB's check, saying which value is taken (FAB's "Already exists." said nothing)."""

    def __call__(self, form, field):
        self.message = gettext("%(value)s already exists: choose another.", value=field.data)
        super().__call__(form, field)


def _tidy_validators(unbound):
    """FAB appends its column validators to the *shared* list of ``validators_columns`` once
    per form it builds (add, then edit): each check ran twice and said so twice ("Already
    exists. Already exists."). Keep the first validator of each class."""
    validators = unbound.kwargs.get("validators")
    if not validators:
        return
    kept, seen = [], set()
    for validator in validators:
        kind = type(validator)
        if kind is fab_validators.Unique:
            validator = Unique(validator.datamodel, validator.col_name)
            kind = Unique
        if not isinstance(validator, FunctionType) and kind in seen:
            continue
        seen.add(kind)
        kept.append(validator)
    validators[:] = kept  # in place: the add and edit forms share the list


def use_our_fields(view):
    """Swap FAB's fields for ours in a view's generated forms (before they are first built)."""
    for name in ("search_form", "add_form", "edit_form"):
        form_class = getattr(view, name, None)
        for klass in getattr(form_class, "__mro__", ()):
            for value in vars(klass).values():
                if isinstance(value, UnboundField):
                    _tidy_validators(value)
                    if value.field_class in _OURS:
                        value.field_class = _OURS[value.field_class]


class ChoiceFieldsMixin:
    """For a ModelView of ours: its generated add, edit and search forms use the fields
    above. (FAB's own screens get them from YmcsSecurityManager.register_views.)"""

    def _init_forms(self):
        super()._init_forms()
        use_our_fields(self)
