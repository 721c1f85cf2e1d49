"""Accounts: signing in, lockout, reset links, captcha, account settings, server-side sessions,
the roles defined in code and the Flask-AppBuilder security manager."""
