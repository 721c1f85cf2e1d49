"""The outbox's attachments (app/core/mail.py), a table of their own; app/models.py imports
it so Alembic sees it."""

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.dialects import mysql

# MEDIUMBLOB on MariaDB (up to 16 MB): a plain BLOB stops at 64 KB.
_BLOB = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class OutboxAttachment(Model):
    """A file sent with an outbox message (Feedback's attachment), kept in the database so
    every node's sender finds it; it goes with its message."""

    __tablename__ = "outbox_attachment"
    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("outbox_message.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(127), nullable=False)
    data = Column(_BLOB, nullable=False)
