"""Troubleshooting (spec chapter 11), "Enterprises do not receive emails": the platform
administrator's view of the mail outbox, with Resend for a failed message. Transitions are
app/core/mail.py's; the outbox is scoped to the administrator (app/core/scope.py)."""

from flask import flash, redirect, render_template, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import mail, scope
from app.core.crud import names_text
from app.core.listing import Col, ListFilter, RowAction
from app.core.scoped_view import ScopedInterface
from app.core.show import BADGE_CLASSES, LazyBadge
from app.core.views import FastScopedModelView, fmt_time
from app.extensions import db
from app.models import OutboxAttachment, OutboxMessage, OutboxStatus

STATUS_LABELS = {OutboxStatus.pending: _l("Queued"), OutboxStatus.sent: _l("Sent"),
                 OutboxStatus.failed: _l("Failed")}
# The status as the list shows it: a coloured badge, as the show page's (BADGE_CLASSES).
STATUS_BADGES = {s: LazyBadge(label, BADGE_CLASSES[s]) for s, label in STATUS_LABELS.items()}


def status_text(status, error=None):
    """"Sent", "Queued", or "Failed: <the SMTP answer>"; "" when there is no mail."""
    if status is None:
        return ""
    status = OutboxStatus(status)
    if status == OutboxStatus.failed and error:
        return gettext("Failed: %(why)s", why=error[:120])
    return STATUS_LABELS[status]


class OutboxModelView(FastScopedModelView):
    datamodel = ScopedInterface(OutboxMessage)
    list_title = _l("Mail Outbox")
    base_permissions = ["can_list", "can_show"]
    list_cols = [
        # The first column links to the message (show): its subject, as in a mailbox.
        Col("subject", _l("Subject"), lambda m: m.subject),
        Col("created_on", _l("Queued at"), lambda m: fmt_time(m.created_on)),
        Col("recipient", _l("Recipient"), lambda m: m.recipient),
        Col("status", _l("Status"), lambda m: STATUS_BADGES[m.status]),
        Col("attempts", _l("Attempts"), lambda m: m.attempts),
        Col("last_error", _l("SMTP answer"), lambda m: m.last_error or ""),
        Col("sent_at", _l("Sent at"), lambda m: fmt_time(m.sent_at)),
    ]
    search_exprs = [OutboxMessage.recipient]
    list_filters = [ListFilter("status", _l("Status"),
                               [(s.value, label) for s, label in STATUS_LABELS.items()],
                               lambda q, v: q.where(OutboxMessage.status == v))]
    row_actions = [RowAction("resend", _l("Resend"), "fa-repeat", ".action",
                             {"name": "resend"},
                             visible=lambda m: m.status == OutboxStatus.failed,
                             confirm=_l("Send this mail again?"))]
    show_columns = ["created_on", "recipient", "subject", "status", "attempts", "last_error",
                    "next_attempt_at", "sent_at", "body_text"]
    label_columns = {"created_on": _l("Queued at"), "recipient": _l("Recipient"),
                     "subject": _l("Subject"), "status": _l("Status"),
                     "attempts": _l("Attempts"), "last_error": _l("SMTP answer"),
                     "next_attempt_at": _l("Next attempt"), "sent_at": _l("Sent at"),
                     "body_text": _l("Message")}

    def list_base_query(self):
        return scope.visible_outbox(select(OutboxMessage))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The message as its recipient reads it: a newcomer follows a password or reset mail
        here when the demo's mail goes to a local sink."""
        message = scope.get_or_404(db.session, OutboxMessage, pk)
        attachments = db.session.execute(select(OutboxAttachment.filename).where(
            OutboxAttachment.message_id == message.id)).scalars().all()
        return render_template(
            "system/outbox_show.html", appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template, message=message,
            status=status_text(message.status), queued_at=fmt_time(message.created_on),
            sent_at=fmt_time(message.sent_at), attachments=attachments,
            next_attempt=fmt_time(message.next_attempt_at)
            if message.status == OutboxStatus.pending else "")

    @action("resend", _l("Resend"), _l("Send the selected failed mails again?"), "fa-repeat")
    def resend(self, items):
        items = items if isinstance(items, list) else [items]
        again = [m.recipient for m in items if mail.resend(db.session, m.id)]
        db.session.commit()
        if again:
            flash(gettext("Mails to %(names)s queued again.", names=names_text(again)),
                  "success")
        else:
            flash(gettext("Only failed mails can be sent again: nothing changed."), "warning")
        return redirect(url_for(".list"))
