"""Troubleshooting: the platform admin's mail outbox (status, SMTP answer, attempts, Resend
of a failed mail); a channel sees its enterprises' account-mail delivery on their rows;
nobody else reaches the outbox."""

import re

from sqlalchemy import select

from app.core.mail import enqueue_mail, send_due_mail
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus

LIST = "/outboxmodelview/list/"


def _queue(app, recipient, subject="YMCS: your account", enterprise_id=None):
    with app.app_context():
        message = enqueue_mail(db.session, recipient, subject, "Hello")
        message.enterprise_id = enterprise_id  # as app/tenancy/master_accounts.py marks it
        db.session.commit()
        return message.id


def _badge(kind, text):
    """A status as the lists show it: a coloured label."""
    return f'<span class="label label-{kind} ymcs-badge">{text}</span>'


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
    assert _badge("danger", "Failed") in page
    shown = admin.get(f"/outboxmodelview/show/{pk}").get_data(as_text=True)
    assert 'class="label label-danger ymcs-badge" id="outbox-status">Failed' in shown
    smtp_server.handler.refuse.discard(address)
    assert admin.post(f"/outboxmodelview/action/resend/{pk}").status_code == 302
    assert _status(app, pk) == OutboxStatus.pending
    page = admin.get(LIST, query_string={"q": address}).get_data(as_text=True)
    assert f"Mails to {address} queued again." in page  # says what, to whom
    assert _badge("info", "Queued") in page
    with app.app_context():
        send_due_mail(db.session, app)
        row = db.session.get(OutboxMessage, pk)
        assert row.status == OutboxStatus.sent and row.attempts == 1
    page = admin.get(LIST, query_string={"q": address}).get_data(as_text=True)
    assert _badge("success", "Sent") in page
    shown = admin.get(f"/outboxmodelview/show/{pk}").get_data(as_text=True)
    assert 'class="label label-success ymcs-badge" id="outbox-status">Sent' in shown
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
    _queue(app, f"e@{t.prefix}.test", enterprise_id=t.E)
    _queue(app, f"eb@{t.prefix}.test", enterprise_id=t.EB)
    _queue(app, f"se@{t.prefix}.test", enterprise_id=t.SE)
    with app.app_context():
        send_due_mail(db.session, app)
    # A later mail to the same address is not the account mail: the row keeps "Failed".
    _queue(app, f"e@{t.prefix}.test", "Alarm", enterprise_id=None)
    page = login(t.b_email, t.password).get(
        "/enterprisemodelview/list/", query_string={"q": t.prefix}).get_data(as_text=True)
    assert "Failed: SMTPRecipientsRefused" in page and "550" in page
    assert "Sent" in page and f"se@{t.prefix}.test" not in page
    with app.app_context():
        assert db.session.execute(select(OutboxMessage.status).where(
            OutboxMessage.recipient == f"se@{t.prefix}.test")).scalar() == OutboxStatus.sent


def test_an_enterprise_account_mail_is_marked_with_its_enterprise(app, fresh_tree):
    from app.models import Enterprise
    from app.tenancy.master_accounts import create_master_account, reset_master_password

    t = fresh_tree
    with app.app_context():
        enterprise = Enterprise(name=f"{t.prefix}-new", channel_id=t.C,
                                email=f"new@{t.prefix}.test")
        db.session.add(enterprise)
        account = create_master_account(db.session, enterprise.email, enterprise,
                                        "https://ymcs.test/login/")
        db.session.commit()
        reset_master_password(db.session, account, "https://ymcs.test/login/")
        db.session.commit()
        mails = db.session.execute(select(OutboxMessage.subject, OutboxMessage.enterprise_id)
                                   .where(OutboxMessage.recipient == enterprise.email)
                                   .order_by(OutboxMessage.id)).all()
        assert [tuple(m) for m in mails] == [("YMCS: your account", enterprise.id),
                                            ("YMCS: your password was reset", enterprise.id)]


def test_finished_mails_past_retention_are_pruned_in_batches(app, fresh_tree, monkeypatch):
    import datetime

    from app.core.jobs import job_registry
    from app.core.outbox_models import OutboxAttachment
    from app.models import utcnow
    from app.system import queries

    t = fresh_tree
    now = utcnow()
    ages = {"old-sent": (100, OutboxStatus.sent), "old-failed": (200, OutboxStatus.failed),
            "old-queued": (100, OutboxStatus.pending), "young-sent": (10, OutboxStatus.sent),
            "old-sent-2": (95, OutboxStatus.sent), "old-sent-3": (91, OutboxStatus.sent)}
    with app.app_context():
        for name, (days, status) in ages.items():
            message = enqueue_mail(db.session, f"{name}@{t.prefix}.test", "Retention", "x",
                                   attachments=[("a.txt", "text/plain", b"hello")])
            message.created_on = now - datetime.timedelta(days=days)
            message.status = status
        db.session.commit()
        assert queries.prune_outbox(db.session, 0, now) == 0  # 0 keeps everything
        monkeypatch.setattr(queries, "PRUNE_BATCH", 2)  # several batches, each committed
        deleted = queries.prune_outbox(db.session, 90, now)
        left = set(db.session.execute(select(OutboxMessage.recipient).where(
            OutboxMessage.recipient.like(f"%@{t.prefix}.test"))).scalars())
        assert left == {f"old-queued@{t.prefix}.test", f"young-sent@{t.prefix}.test"}
        assert deleted >= 4
        # their attachments went with them
        orphans = db.session.execute(select(OutboxAttachment.id).where(
            OutboxAttachment.message_id.not_in(select(OutboxMessage.id)))).first()
        assert orphans is None
    assert "prune_outbox" in job_registry(app)


def test_resending_many_names_the_first_few_recipients(app, fresh_tree, login, smtp_server):
    t = fresh_tree
    addresses = [f"gone{i}@{t.prefix}.test" for i in range(5)]
    smtp_server.handler.refuse.update(addresses)
    pks = [_queue(app, address) for address in addresses]
    with app.app_context():
        send_due_mail(db.session, app)
    smtp_server.handler.refuse.difference_update(addresses)
    admin = login(t.admin_email, t.password)
    assert admin.post("/outboxmodelview/action_post", data={
        "action": "resend", "rowid": [str(pk) for pk in pks]}).status_code == 302
    page = admin.get(LIST, query_string={"q": t.prefix}).get_data(as_text=True)
    said = re.search(r"Mails to ([^<]*) and 2 more queued again\.", page)
    assert said, page
    named = said.group(1).split(", ")
    assert len(named) == 3 and set(named) <= set(addresses)
