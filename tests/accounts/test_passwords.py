"""Password hashes: scrypt unless configured; one method for our screens and FAB's."""

import importlib

from werkzeug.security import check_password_hash

from app.core import passwords


def test_production_hashes_with_scrypt_and_the_suite_with_its_cheap_method(app, monkeypatch):
    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    import config

    assert importlib.reload(config).PASSWORD_HASH_METHOD == "scrypt"
    assert config.FAB_PASSWORD_HASH_METHOD == "scrypt"
    with app.app_context():
        stored = passwords.hash_password("Test-pass-2026")
        assert stored.startswith("pbkdf2:sha256:1000$")  # TEST_SETTINGS
        assert passwords.check_password(stored, "Test-pass-2026")
        assert not passwords.check_password(stored, "wrong")
        assert not passwords.check_password(None, "Test-pass-2026")
        monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", None)
        stored = passwords.hash_password("Test-pass-2026")
        assert stored.startswith("scrypt:") and check_password_hash(stored, "Test-pass-2026")


def test_fab_screens_hash_the_same_way(app):
    with app.app_context():
        assert app.config["FAB_PASSWORD_HASH_METHOD"] == app.config["PASSWORD_HASH_METHOD"]
