"""The list table's rows as one piece of markup, built in Python.

The same HTML fastlist.html's row loop printed (checkbox, linked first cell, the pre-escaped
other cells, Edit and the row actions, past two of them in an "Actions" menu), without the
template engine's per-row work: on a page of 50 rows that loop was about a tenth of the
page's CPU (bench/bench_list.py --profile). Every value is escaped here as Jinja's autoescape
did, and the confirmations are JSON made safe for HTML as its ``tojson`` filter makes them.
"""

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape


def _action_button(url, label, icon, confirm, menu):
    label = escape(label)
    onclick = f" onclick='return confirm({htmlsafe_json_dumps(confirm)})'" if confirm else ""
    button = (f'<button class="btn {"btn-link" if menu else "btn-xs btn-default"} '
              f'ymcs-row-action" type="submit" formaction="{escape(url)}" formnovalidate'
              f'{onclick} aria-label="{label}"><i class="fa fa-fw {escape(icon)}"></i> '
              f'{label}</button>')
    return f"<li>{button}</li>" if menu else button


def rows_html(table, can, row_buttons, checkboxes, texts):
    """``table``: (pk, first cell, the other cells' markup, {"show"|"edit"|"delete": url}) per
    row; ``row_buttons``: {pk: [(url, label, icon, confirm)]}; ``texts``: the translated
    "select", "edit", "delete", "confirm" (delete this record?) and "actions"."""
    t_select, t_edit, t_delete, t_actions = (escape(texts[k]) for k in (
        "select", "edit", "delete", "actions"))
    delete_confirm = htmlsafe_json_dumps(texts["confirm"])
    toggle = (f'<button type="button" class="btn btn-xs btn-default dropdown-toggle '
              f'ymcs-actions-toggle" data-toggle="dropdown" aria-haspopup="true" '
              f'aria-expanded="false">{t_actions} <span class="caret"></span></button>'
              f'<ul class="dropdown-menu dropdown-menu-right">')
    out = []
    for pk, first, rest, urls in table:
        first = escape(first)
        parts = ["<tr>"]
        if checkboxes:
            parts.append(f'<td><input class="ymcs-row" type="checkbox" name="rowid" '
                         f'value="{escape(pk)}" aria-label="{t_select}"></td>')
        if can["show"]:
            parts.append(f'<td><a href="{escape(urls["show"])}">{first}</a></td>')
        else:
            parts.append(f"<td>{first}</td>")
        parts.append(rest)
        more = row_buttons.get(pk, ())
        menu = len(more) + (1 if can["delete"] else 0) > 1
        parts.append('<td class="text-nowrap"><div class="btn-group ymcs-actions">')
        if can["edit"]:
            parts.append(f'<a class="btn btn-xs btn-default" href="{escape(urls["edit"])}" '
                         f'title="{t_edit}" aria-label="{t_edit}"><i class="fa fa-edit"></i> '
                         f'{t_edit}</a>')
        if menu:
            parts.append(toggle)
        parts.extend(_action_button(*button, menu) for button in more)
        if can["delete"]:
            if menu:
                parts.append('<li role="separator" class="divider"></li><li>' if more
                             else "<li>")
            style = "btn-link text-danger" if menu else "btn-xs btn-default"
            parts.append(f'<button class="btn {style}" type="submit" '
                         f'formaction="{escape(urls["delete"])}" formnovalidate '
                         f"onclick='return confirm({delete_confirm})' aria-label=\"{t_delete}\">"
                         f'<i class="fa fa-fw fa-trash"></i> {t_delete}</button>')
            if menu:
                parts.append("</li>")
        if menu:
            parts.append("</ul>")
        parts.append("</div></td></tr>")
        out.append("".join(parts))
    return Markup("\n".join(out))
