"""Troubleshooting: the platform admin's mail outbox (status, SMTP answer, attempts, Resend
of a failed mail); a channel sees its enterprises' account-mail delivery on their rows;
nobody else reaches the outbox."""

from sqlalchemy import select

from app.core.mail import enqueue_mail, send_due_mail
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus

LIST = "/outboxmodelview/list/"


def _queue(app, recipient, subject="YMCS: your account"):
    with app.app_context():
        message = enqueue_mail(db.session, recipient, subject, "Hello")
        db.session.commit()
        return message.id


def _status(app, pk):
    with app.app_context():
        return db.session.get(OutboxMessage, pk).status


def test_a_5xx_fails_at_once_and_the_admin_resends_it(app, fresh_tree, login, smtp_server):
    t = fresh_tree
    address = f"gone@{t.prefix}.test"
    smtp_server.handler.refuse.add(address)
    pk = _queue(app, address)
    with app.app_context():
        send_due_mail(db.session, app)
    assert _status(app, pk) == OutboxStatus.failed
    admin = login(t.admin_email, t.password)
    page = admin.get(LIST, query_string={"q": address, "status": "failed"}) \
        .get_data(as_text=True)
    assert address in page and "550 5.1.1 No such user here" in page
    smtp_server.handler.refuse.discard(address)
    assert admin.post(f"/outboxmodelview/action/resend/{pk}").status_code == 302
    assert _status(app, pk) == OutboxStatus.pending
    with app.app_context():
        send_due_mail(db.session, app)
        row = db.session.get(OutboxMessage, pk)
        assert row.status == OutboxStatus.sent and row.attempts == 1
    # resending a sent mail changes nothing
    admin.post(f"/outboxmodelview/action/resend/{pk}")
    assert _status(app, pk) == OutboxStatus.sent


def test_tenants_never_reach_the_outbox(app, tree, login):
    pk = _queue(app, f"x@{tree.prefix}.test", "Other")
    for who in ("a", "sub", "ent"):
        browser = login(getattr(tree, f"{who}_email"), tree.password)
        assert browser.get(LIST).status_code in (403, 404)
        assert browser.get(f"/outboxmodelview/show/{pk}").status_code in (403, 404)
        assert browser.post(f"/outboxmodelview/action/resend/{pk}").status_code in (403, 404)
        assert browser.post("/outboxmodelview/action_post", data={
            "action": "resend", "rowid": [str(pk)]}).status_code in (403, 404)


def test_a_channel_sees_its_enterprises_account_mail_on_their_rows(app, fresh_tree, login,
                                                                   smtp_server):
    t = fresh_tree
    smtp_server.handler.refuse.add(f"e@{t.prefix}.test")
    _queue(app, f"e@{t.prefix}.test")
    _queue(app, f"eb@{t.prefix}.test")
    _queue(app, f"se@{t.prefix}.test")
    with app.app_context():
        send_due_mail(db.session, app)
    page = login(t.b_email, t.password).get(
        "/enterprisemodelview/list/", query_string={"q": t.prefix}).get_data(as_text=True)
    assert "Failed: SMTPRecipientsRefused" in page and "550" in page
    assert "Sent" in page and f"se@{t.prefix}.test" not in page
    with app.app_context():
        assert db.session.execute(select(OutboxMessage.status).where(
            OutboxMessage.recipient == f"se@{t.prefix}.test")).scalar() == OutboxStatus.sent
