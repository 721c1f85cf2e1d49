"""Sessions kept on the server: the cookie carries only a random id, so ending a session (Exit,
a password change, a freeze, a deleted account) ends it for whoever holds a copy of the cookie.

The data lives in the database (table ``server_session``) or, when ``REDIS_URL`` is set, in
Redis; either way each session records its account, so ``end_sessions`` ends every session of
an account at once. Only the SHA-256 of a session id is stored: the table or a Redis dump does
not hand out live cookies.

- A session is written only when it has something to keep: an anonymous visitor who stores
  nothing (a captcha picture, a static file, a phone) creates no row.
- The id changes whenever the account changes (sign-in, Exit), so an id known before a sign-in
  cannot follow it (fixation) and a cookie copied before Exit opens nothing afterwards.
- Idle timeout: a session expires ``PERMANENT_SESSION_LIFETIME`` after its last write. A
  request that changes nothing writes only to push the expiry on, at most once a minute, so
  the cookie and the row may end up to a minute before the full idle time.
- A session ended elsewhere during a request is not written back (UPDATE only, never insert).
"""

import datetime
import hashlib
import json
import re
import secrets

from flask import current_app, has_app_context
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from app.extensions import db
from app.models import ServerSession as SessionRow
from app.models import utcnow

REFRESH_SECONDS = 60  # a request that changes nothing moves the expiry on at most this often
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_serializer = TaggedJSONSerializer()  # Flask's own: tuples, bytes, datetimes, Markup


def _digest(sid):
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request. ``sid`` is None until the session is first stored."""

    def __init__(self, initial=None, sid=None, account_id=None, payload=None,
                 refresh_due=False, stale_cookie=False):
        def on_update(self):
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.loaded_account_id = account_id
        self.loaded_payload = payload
        self.refresh_due = refresh_due
        self.stale_cookie = stale_cookie  # the browser sent an id we do not (or no longer) know
        self.modified = False
        self.accessed = False

    # Read or written, the answer depends on the cookie (``Vary: Cookie``), as in Flask's own.
    def __getitem__(self, key):
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key, default=None):
        self.accessed = True
        return super().setdefault(key, default)

    # Every session is permanent (the idle timeout); as a stored flag it would be rewritten.
    @property
    def permanent(self):
        return True

    @permanent.setter
    def permanent(self, value):
        pass

    @property
    def account_id(self):
        """The signed-in account (Flask-Login's ``_user_id``), or None."""
        try:
            return int(self.get("_user_id"))
        except (TypeError, ValueError):
            return None


class DatabaseStore:
    """Rows of ``server_session``. Reads go through the request's db.session (one SELECT,
    no extra connection); writes through their own short transaction, so they neither
    commit nor roll back whatever the request itself is doing."""

    _load = (select(SessionRow.account_id, SessionRow.data, SessionRow.expires_at)
             .where(SessionRow.id == bindparam("id")))

    def load(self, digest, now):
        row = db.session.execute(self._load, {"id": digest}).first()
        if row is None or row.expires_at <= now:
            return None
        return row.account_id, row.data, (row.expires_at - now).total_seconds()

    def _write(self, statement):
        with db.engine.begin() as conn:
            return conn.execute(statement).rowcount

    def insert(self, digest, account_id, payload, expires_at, now):
        self._write(insert(SessionRow).values(id=digest, account_id=account_id, data=payload,
                                              expires_at=expires_at, created_on=now))

    def update(self, digest, account_id, payload, expires_at):
        return self._write(update(SessionRow).where(SessionRow.id == digest).values(
            data=payload, expires_at=expires_at)) == 1

    def touch(self, digest, account_id, expires_at):
        return self._write(update(SessionRow).where(SessionRow.id == digest).values(
            expires_at=expires_at)) == 1

    def delete(self, digest, account_id):
        self._write(delete(SessionRow).where(SessionRow.id == digest))

    def end(self, db_session, account_ids, keep_digest):
        """In the caller's transaction: the sessions end exactly when its change commits."""
        statement = delete(SessionRow).where(SessionRow.account_id.in_(account_ids))
        if keep_digest:
            statement = statement.where(SessionRow.id != keep_digest)
        db_session.execute(statement)

    def prune(self, now):
        return self._write(delete(SessionRow).where(SessionRow.expires_at <= now))


# KEYS: the accounts' sets of session digests; ARGV[1]: the session key prefix, ARGV[2]: the
# digest to keep (or ""). One script, so a session cannot slip in between reading and deleting.
_END_SCRIPT = """
local ended = 0
for _, members in ipairs(KEYS) do
  for _, digest in ipairs(redis.call('SMEMBERS', members)) do
    if digest ~= ARGV[2] then
      ended = ended + redis.call('DEL', ARGV[1] .. digest)
      redis.call('SREM', members, digest)
    end
  end
end
return ended
"""


class RedisStore:
    """``<prefix>s:<digest>`` holds {"a": account id, "d": data} and expires with the session;
    ``<prefix>a:<account id>`` is the set of that account's session digests."""

    def __init__(self, url, prefix, lifetime_seconds):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self.lifetime_ms = int(lifetime_seconds * 1000)
        self._end = self.redis.register_script(_END_SCRIPT)

    def _key(self, digest):
        return f"{self.prefix}s:{digest}"

    def _members(self, account_id):
        return f"{self.prefix}a:{account_id}"

    def load(self, digest, now):
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self._key(digest))
        pipe.pttl(self._key(digest))
        raw, ttl_ms = pipe.execute()
        if raw is None or ttl_ms is None or ttl_ms <= 0:
            return None
        value = json.loads(raw)
        return value["a"], value["d"], ttl_ms / 1000

    def _keep_members(self, pipe, account_id):
        if account_id is not None:  # the set outlives every member's key
            pipe.pexpire(self._members(account_id), self.lifetime_ms)

    def insert(self, digest, account_id, payload, expires_at, now):
        pipe = self.redis.pipeline()
        pipe.set(self._key(digest), json.dumps({"a": account_id, "d": payload}),
                 px=self.lifetime_ms, nx=True)
        if account_id is not None:
            pipe.sadd(self._members(account_id), digest)
        self._keep_members(pipe, account_id)
        pipe.execute()

    def update(self, digest, account_id, payload, expires_at):
        pipe = self.redis.pipeline()
        pipe.set(self._key(digest), json.dumps({"a": account_id, "d": payload}),
                 px=self.lifetime_ms, xx=True)
        self._keep_members(pipe, account_id)
        return bool(pipe.execute()[0])

    def touch(self, digest, account_id, expires_at):
        pipe = self.redis.pipeline()
        pipe.pexpire(self._key(digest), self.lifetime_ms)
        self._keep_members(pipe, account_id)
        return bool(pipe.execute()[0])

    def delete(self, digest, account_id):
        pipe = self.redis.pipeline()
        pipe.delete(self._key(digest))
        if account_id is not None:
            pipe.srem(self._members(account_id), digest)
        pipe.execute()

    def end(self, db_session, account_ids, keep_digest):
        # Not transactional with the caller's change: ending a session too early is the safe
        # side of a rollback.
        self._end(keys=[self._members(a) for a in account_ids],
                  args=[f"{self.prefix}s:", keep_digest or ""])

    def prune(self, now):
        return 0  # Redis expires the keys itself


class ServerSessionInterface(SessionInterface):
    def __init__(self, store):
        self.store = store

    def open_session(self, app, request):
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid:
            return ServerSession()
        found = self.store.load(_digest(sid), utcnow()) if _ID_RE.match(sid) else None
        if found is None:
            return ServerSession(stale_cookie=True)
        account_id, payload, remaining = found
        lifetime = app.permanent_session_lifetime.total_seconds()
        refresh_after = min(REFRESH_SECONDS, lifetime / 2)
        return ServerSession(_serializer.loads(payload), sid=sid, account_id=account_id,
                             payload=payload, refresh_due=lifetime - remaining >= refresh_after)

    def save_session(self, app, session, response):
        if session.accessed:
            response.vary.add("Cookie")
        now = utcnow()
        expires_at = now + app.permanent_session_lifetime
        data = dict(session)
        account_id = session.account_id
        if session.sid is not None and account_id != session.loaded_account_id:
            # Signed in or out: the old id dies and the data moves to a new one.
            self.store.delete(_digest(session.sid), session.loaded_account_id)
            session.sid, session.stale_cookie = None, True
        if session.sid is None:
            if _worth_storing(app, data):
                sid = secrets.token_urlsafe(32)
                self.store.insert(_digest(sid), account_id, _serializer.dumps(data),
                                  expires_at, now)
                self._set_cookie(app, response, sid, expires_at)
            elif session.stale_cookie:
                self._delete_cookie(app, response)
            return
        digest = _digest(session.sid)
        if not data:
            self.store.delete(digest, account_id)
            self._delete_cookie(app, response)
            return
        # Serialized every time: a change made inside a stored list or dict is no assignment.
        payload = _serializer.dumps(data)
        if payload != session.loaded_payload:
            kept = self.store.update(digest, account_id, payload, expires_at)
        elif session.refresh_due:
            kept = self.store.touch(digest, account_id, expires_at)
        else:
            return  # nothing new, and the expiry was moved on less than a minute ago
        if kept:
            self._set_cookie(app, response, session.sid, expires_at)
        else:  # ended meanwhile (Exit elsewhere, a password change): stays ended
            self._delete_cookie(app, response)

    def _set_cookie(self, app, response, sid, expires_at):
        response.set_cookie(
            self.get_cookie_name(app), sid,
            expires=expires_at.replace(tzinfo=datetime.UTC),
            httponly=self.get_cookie_httponly(app), domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app))

    def _delete_cookie(self, app, response):
        response.delete_cookie(
            self.get_cookie_name(app), domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app), samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app))


def _worth_storing(app, data):
    # FAB's locale selector writes the default language into the session of every page it
    # translates; that alone (the default applies anyway) is no reason for a row per visitor.
    default = app.config.get("BABEL_DEFAULT_LOCALE")
    return any(key != "locale" or value != default for key, value in data.items())


def init_server_sessions(app):
    lifetime = app.permanent_session_lifetime.total_seconds()
    if app.config.get("REDIS_URL"):
        store = RedisStore(app.config["REDIS_URL"], app.config["SESSION_REDIS_PREFIX"],
                           lifetime)
    else:
        store = DatabaseStore()
    app.session_interface = ServerSessionInterface(store)


def _store():
    if has_app_context():
        interface = current_app.session_interface
        if isinstance(interface, ServerSessionInterface):
            return interface.store
    return DatabaseStore()


def end_sessions(db_session, account_ids, keep_session_id=None):
    """End every session of these accounts, but the one whose id is ``keep_session_id`` (the
    request that changed its own password stays signed in). With the database store this
    happens in the caller's transaction, which the caller commits."""
    account_ids = sorted({a for a in account_ids if a is not None})
    if account_ids:
        keep = _digest(keep_session_id) if keep_session_id else None
        _store().end(db_session, account_ids, keep)


def prune_sessions():
    """The scheduler's job: expired sessions leave the table (Redis expires its own)."""
    return _store().prune(utcnow())
