"""Feedback: to the support address through the outbox with a copy to the sender; the
attachment's size and type (by its bytes) are checked; refusals change nothing."""

import io

import pytest
from sqlalchemy import func, select

from app.core.mail import send_due_mail
from app.extensions import db
from app.models import OutboxAttachment, OutboxMessage
from app.system import feedback

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def _outbox_count(app):
    with app.app_context():
        return (db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar(),
                db.session.execute(select(func.count()).select_from(OutboxAttachment))
                .scalar())


def _post(browser, attachment=None, **fields):
    data = {"subject": "Phones reboot", "message": "Since Monday.", **fields}
    if attachment is not None:
        name, content = attachment
        data["attachment"] = (io.BytesIO(content), name)
    return browser.post("/feedback/", data=data, content_type="multipart/form-data")


def test_feedback_with_a_picture_reaches_support_and_the_sender(app, tree, login,
                                                               smtp_server):
    browser = login(tree.c_email, tree.password)
    assert 'id="feedback-link"' in browser.get("/").get_data(as_text=True)
    response = _post(browser, ("screen.png", PNG))
    assert response.status_code == 302
    with app.app_context():
        send_due_mail(db.session, app)
    support = app.config["SUPPORT_EMAIL"]
    got = {tuple(rcpts): message for rcpts, message in smtp_server.received}
    for address in (support, tree.c_email):
        message = got[(address,)]
        assert "Phones reboot" in message["Subject"]
        [part] = list(message.iter_attachments())
        assert part.get_filename() == "screen.png" and part.get_content() == PNG
        assert part.get_content_type() == "image/png"


@pytest.mark.parametrize("name, content, message", [
    ("virus.png", EXE, "must be of the type its name says"),
    ("report.png", PDF, "must be of the type its name says"),
    ("tool.exe", EXE, "must be of the type its name says"),
    ("notes.txt", b"\x00\x01binary", "must be of the type its name says"),
    ("big.pdf", PDF + b"0" * (50 * 1024 * 1024), "larger than"),
])
def test_forged_or_oversized_attachments_are_refused_and_nothing_is_queued(
        app, tree, login, name, content, message):
    browser = login(tree.c_email, tree.password)
    before = _outbox_count(app)
    response = _post(browser, (name, content))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _outbox_count(app) == before


def test_bad_fields_are_refused(app, tree, login):
    browser = login(tree.ent_email, tree.password)
    before = _outbox_count(app)
    assert _post(browser, subject="").status_code == 400
    assert _post(browser, subject="x" * 201).status_code == 400
    assert _post(browser, message="").status_code == 400
    assert _outbox_count(app) == before


def test_attachment_rules_without_http():
    assert feedback.check_attachment("a.PDF", PDF, 1000) == ("a.PDF", "application/pdf")
    assert feedback.check_attachment("x.jpeg", b"\xff\xd8\xff\xe0" + b"0" * 20, 1000)[1] \
        == "image/jpeg"
    assert feedback.check_attachment("../../etc/log.txt", "Grüße".encode(), 1000) == (
        "etc_log.txt", "text/plain")
    with pytest.raises(feedback.FeedbackError):
        feedback.check_attachment("a.pdf", PDF, 10)
    with pytest.raises(feedback.FeedbackError):
        feedback.check_attachment("a.txt", b"\xff\xfe\xfa", 1000)
