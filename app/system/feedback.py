"""Feedback (top right): a subject, a message and an optional attachment, mailed through the
outbox to the vendor's support address (SUPPORT_EMAIL), with a copy to the sender.

An attachment's type is what its first bytes say (``filetype``), never its name or the
browser's claim: a file whose content is not of an allowed type, or whose name says another
type than its content, is refused; so is one over FEEDBACK_MAX_ATTACHMENT_BYTES.
"""

import os

import filetype
from werkzeug.utils import secure_filename

from app.accounts.rules import _N, AccountError
from app.core.mail import MailError, enqueue_mail

# Detected extension -> content type; the file's own name must say the same type.
ALLOWED_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
                 "webp": "image/webp", "pdf": "application/pdf", "zip": "application/zip"}
_SAME = {"jpeg": "jpg"}
# Plain text has no magic bytes: these names are taken when the content is UTF-8 text.
TEXT_EXTENSIONS = {"txt", "log"}
MAX_SUBJECT = 200
MAX_MESSAGE = 10000


class FeedbackError(AccountError):
    pass


TOO_BIG = _N("The attachment is larger than %(limit)s MB.")
BAD_TYPE = _N("Attachments may be PNG, JPEG, GIF or WebP pictures, PDF, ZIP or text "
              "files, and the file's content must be of the type its name says.")
BAD_SUBJECT = _N("The subject must be one line of at most %(n)s characters.")


def check_attachment(filename, data, max_bytes):
    """(safe file name, content type) of an acceptable attachment, or FeedbackError."""
    if len(data) > max_bytes:
        raise FeedbackError(TOO_BIG, limit=round(max_bytes / 1024 / 1024, 1))
    name = secure_filename(filename or "") or "attachment"
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    extension = _SAME.get(extension, extension)
    kind = filetype.guess(data)
    if kind is not None:
        detected = _SAME.get(kind.extension, kind.extension)
        if detected in ALLOWED_TYPES and detected == extension:
            return name, ALLOWED_TYPES[detected]
        raise FeedbackError(BAD_TYPE)
    if extension in TEXT_EXTENSIONS and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise FeedbackError(BAD_TYPE) from None
        return name, "text/plain"
    raise FeedbackError(BAD_TYPE)


def send_feedback(session, account, subject, message, support_address, attachment=None):
    """Queue the feedback to support and its copy to the sender (caller commits).
    ``attachment`` is (file name, content type, bytes), already checked."""
    subject = (subject or "").strip()
    if not subject or "\n" in subject or "\r" in subject or len(subject) > MAX_SUBJECT:
        raise FeedbackError(BAD_SUBJECT, n=MAX_SUBJECT)
    message = (message or "").strip()[:MAX_MESSAGE]
    attachments = [attachment] if attachment else []
    who = f"{account.first_name} {account.last_name}".strip()
    body = (f"Feedback from {who} <{account.email}>"
            f" (account {account.id}, {account.kind.value if account.kind else ''})\n\n"
            f"{message}\n")
    try:
        enqueue_mail(session, support_address, f"YMCS feedback: {subject}", body,
                     attachments=attachments)
        enqueue_mail(session, account.email, f"YMCS: your feedback: {subject}",
                     "Hello,\n\nThank you for your feedback; this is your copy of what was "
                     f"sent to {support_address}.\n\n{message}\n", attachments=attachments)
    except MailError as error:
        raise FeedbackError(_N("Cannot mail %(email)s: %(why)s"), email=account.email,
                            why=str(error)) from error
