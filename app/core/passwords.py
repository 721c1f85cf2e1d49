"""Password hashes, one method for the portal and Flask-AppBuilder's own screens.

PASSWORD_HASH_METHOD (werkzeug's notation) is scrypt by default; the test suite, which creates
thousands of accounts, sets a cheap one (its tests are about who may sign in, not about the
hash's cost)."""

import functools

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

DEFAULT_METHOD = "scrypt"


def _method():
    return current_app.config.get("PASSWORD_HASH_METHOD") or DEFAULT_METHOD


def hash_password(password):
    return generate_password_hash(password, method=_method())


@functools.cache
def _fake_hash(method):
    return generate_password_hash("not-a-real-password", method=method)


def check_password(stored, password):
    """Whether ``password`` matches the stored hash; with none stored, a check of the same
    method's cost all the same (an unknown account answers as slowly as a known one)."""
    if not stored:
        check_password_hash(_fake_hash(_method()), password or "x")
        return False
    return check_password_hash(stored, password)
