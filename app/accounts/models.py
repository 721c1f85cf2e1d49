"""The accounts' own tables: server-side sessions (sessions.py) and sign-in throttling
(rules.py); app/models.py imports them so Alembic sees every table."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Index, Integer, String, Text

from app.core.clock import utcnow


class ServerSession(Model):
    """A signed-in browser's session (app/accounts/sessions.py): the cookie holds only a random
    id; the row holds the data, keyed by the SHA-256 of that id, and the account, so every
    session of an account ends with one DELETE."""

    __tablename__ = "server_session"
    id = Column(String(64), primary_key=True)  # SHA-256 (hex) of the cookie's id
    account_id = Column(Integer, nullable=True, index=True)  # None: an anonymous visitor
    data = Column(Text, nullable=False)  # Flask's tagged JSON
    expires_at = Column(DateTime, nullable=False, index=True)  # idle timeout; then pruned
    created_on = Column(DateTime, nullable=False, default=utcnow)


class LoginThrottle(Model):
    """Failed sign-ins of one email (SHA-256 of it, registered or not) from one client address,
    or from every address when ``address`` is "*" (app/accounts/rules.py: the rules)."""

    __tablename__ = "login_throttle"
    id = Column(Integer, primary_key=True)
    email_digest = Column(String(64), nullable=False)
    address = Column(String(45), nullable=False)
    failures = Column(Integer, nullable=False, default=0)  # since the last lock or sign-in
    locks = Column(Integer, nullable=False, default=0)  # each lock of an address is longer
    window_start = Column(DateTime, nullable=False, default=utcnow)
    locked_until = Column(DateTime, nullable=True)
    updated_on = Column(DateTime, nullable=False, default=utcnow, index=True)  # pruning
    __table_args__ = (Index("uq_login_throttle_email_address", "email_digest", "address",
                            unique=True),)
