"""The list rows built in Python print what fastlist.html's row loop printed: the loop, as it
was, is the reference (with checkboxes or not, links or not, one row action or a menu, texts
and confirmations holding quotes and markup)."""

import re
from pathlib import Path

import pytest
from jinja2 import Environment
from markupsafe import Markup

from app.core.list_rows import rows_html

# fastlist.html's row loop before the rows moved to Python (app/core/list_rows.py).
TEMPLATE_LOOP = (Path(__file__).parent / "fastlist_rows_before.html").read_text()

TEXTS = {"select": "Select", "edit": "Edit", "delete": "Delete", "actions": "Actions",
         "confirm": "Delete this record? It's gone for good & all"}


def _reference(table, can, row_buttons, actions):
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(
        lambda s: {"Select": TEXTS["select"], "Edit": TEXTS["edit"], "Delete": TEXTS["delete"],
                   "Delete this record?": TEXTS["confirm"], "Actions": TEXTS["actions"]}[s],
        lambda s, p, n: s, newstyle=True)
    return env.from_string(TEMPLATE_LOOP).render(table=table, can=can, row_buttons=row_buttons,
                                                 actions=actions)


def _same(html):
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


TABLE = [
    (7, "Kaixin <Trading>", Markup("<td>a &amp; b</td><td></td>"),
     {"show": "/x/show/7?a=1&b=2", "edit": "/x/edit/7", "delete": "/x/delete/7"}),
    (8, Markup('<span class="label">On</span>'), Markup("<td>c</td>"),
     {"show": "/x/show/8", "edit": "/x/edit/8", "delete": "/x/delete/8"}),
    (9, "", Markup(""), {"show": "/x/show/9", "edit": "/x/edit/9", "delete": "/x/delete/9"}),
]
BUTTONS = {
    7: [("/x/freeze/7", "Freeze", "fa-lock", "Freeze 'Kaixin'? <b>sure</b>"),
        ("/x/mail/7", "Resend", "fa-envelope", "")],
    8: [("/x/freeze/8", "Freeze", "fa-lock", "")],
}


@pytest.mark.parametrize("show", [True, False])
@pytest.mark.parametrize("edit", [True, False])
@pytest.mark.parametrize("delete", [True, False])
@pytest.mark.parametrize("buttons", [BUTTONS, {}])
@pytest.mark.parametrize("checkboxes", [True, False])
def test_the_rows_are_the_loops_rows(show, edit, delete, buttons, checkboxes):
    can = {"show": show, "edit": edit, "delete": delete}
    table = [(pk, first, rest, {k: u for k, u in urls.items() if can[k]})
             for pk, first, rest, urls in TABLE]
    ours = rows_html(table, can, buttons, checkboxes, TEXTS)
    reference = _reference(table, can, buttons, ["bulk"] if checkboxes else [])
    assert _same(ours) == _same(reference)
    assert "<Trading>" not in ours and "&lt;Trading&gt;" in ours
