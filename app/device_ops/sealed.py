"""Secrets the portal must hand to a device once (the password of the server log backups go
to) are kept sealed: Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from
SECRET_KEY, in the queued command's arguments, and opened only to write the RPC. Nothing
shows or remembers them once sent (rpc.py skips "password" names)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

MARK = "sealed:"


def _fernet(secret_key):
    digest = hashlib.sha256(b"ymcs-sealed-device-secret:" + str(secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key, value):
    return MARK + _fernet(secret_key).encrypt(str(value).encode()).decode()


def is_sealed(value):
    return isinstance(value, str) and value.startswith(MARK)


def unseal(secret_key, value):
    """The plain value of a sealed one (a value that is not sealed is returned as it is; one
    sealed under another SECRET_KEY comes back empty rather than as ciphertext)."""
    if not is_sealed(value):
        return value
    try:
        return _fernet(secret_key).decrypt(value[len(MARK):].encode()).decode()
    except (InvalidToken, ValueError):
        return ""
