"""HTTP authentication of devices (to the ACS and the provisioning files) and of the ACS to
devices (connection requests): Basic, and Digest (RFC 7616, MD5, qop=auth).

Stateless on our side: a Digest nonce is a timestamp signed with the app's secret, so any web
node checks any nonce and nothing is stored. A nonce is good for NONCE_SECONDS; replays inside
that window are what Digest without a nonce-count store allows (the transport is HTTPS).
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time

REALM = "YMCS"
NONCE_SECONDS = 300


def new_secret(nbytes=18):
    """A password for a device-facing credential (URL-safe, no ambiguous quoting). Never
    starts with '-', which a command line (the simulator, curl, a phone's CLI) reads as an
    option: one in 64 did, and broke a CI run."""
    while True:
        secret = secrets.token_urlsafe(nbytes)
        if not secret.startswith("-"):
            return secret


def _id_of_username(username, prefix):
    username = username or ""
    digits = username[len(prefix):]
    # isascii: str.isdigit also accepts '²' and other digits int() refuses; one spelling
    # only ("ent007" is not ent7)
    if (username.startswith(prefix) and digits.isascii() and digits.isdigit()
            and len(digits) < 10 and not digits.startswith("0")):
        return int(digits)
    return None


def enterprise_id_of_username(username):
    """'ent42' -> 42; anything else -> None."""
    return _id_of_username(username, "ent")


def device_id_of_username(username):
    """'dev42' -> 42 (a device's own ACS user); anything else -> None."""
    return _id_of_username(username, "dev")


def device_username(device_id):
    return f"dev{device_id}"


def ensure_acs_password(session, enterprise):
    """The enterprise's ACS password, made on first use (the caller commits)."""
    if not enterprise.acs_password:
        enterprise.acs_password = new_secret()
        session.flush()
    return enterprise.acs_password


def _md5(text):
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _sign(secret_key, text):
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def make_nonce(secret_key, now=None):
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_sign(secret_key, stamp)}"


def nonce_fresh(secret_key, nonce, now=None):
    stamp, _, mac = (nonce or "").partition(".")
    if not (stamp.isascii() and stamp.isdigit()) or not hmac.compare_digest(
            mac.encode(), _sign(secret_key, stamp).encode()):
        return False
    age = (now if now is not None else time.time()) - int(stamp)
    return 0 <= age <= NONCE_SECONDS


def challenge_headers(secret_key, realm=REALM, stale=False):
    """WWW-Authenticate values for a 401: Digest first (preferred), then Basic."""
    digest = (f'Digest realm="{realm}", qop="auth", algorithm=MD5, '
              f'nonce="{make_nonce(secret_key)}", opaque="{_md5(realm)}"')
    if stale:
        digest += ", stale=true"
    return [("WWW-Authenticate", digest), ("WWW-Authenticate", f'Basic realm="{realm}"')]


def parse_digest(value):
    """The key=value pairs of a Digest header (quoted or not); {} when unparsable."""
    params = {}
    rest = value.strip()
    while rest:
        key, sep, rest = rest.partition("=")
        if not sep:
            return {}
        key = key.strip().lower()
        rest = rest.lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                return {}
            params[key] = rest[1:end]
            rest = rest[end + 1:]
        else:
            val, _, rest = rest.partition(",")
            params[key] = val.strip()
            rest = "," + rest
        rest = rest.lstrip().removeprefix(",").lstrip()
    return params


def digest_response(username, password, realm, method, uri, nonce, nc=None, cnonce=None,
                    qop=None):
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def check_authorization(header, method, secret_key, password_of, realm=REALM):
    """The user name the Authorization header proves, or None.

    ``password_of(username)`` returns that user's password or None. Basic and Digest
    (qop=auth or none, MD5) are accepted; a Digest nonce must be ours and fresh.
    """
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
            return None
        username, sep, password = decoded.partition(":")
        expected = password_of(username) if sep else None
        if expected is not None and hmac.compare_digest(password.encode(), expected.encode()):
            return username
        return None
    if scheme == "digest":
        p = parse_digest(value)
        username = p.get("username")
        if not username or p.get("realm") != realm or not nonce_fresh(secret_key, p.get("nonce")):
            return None
        if p.get("algorithm", "MD5").upper() != "MD5" or p.get("qop") not in (None, "auth"):
            return None
        expected = password_of(username)
        if expected is None:
            return None
        want = digest_response(username, expected, realm, method, p.get("uri", ""),
                               p["nonce"], p.get("nc"), p.get("cnonce"), p.get("qop"))
        if hmac.compare_digest(want.encode(), p.get("response", "").encode()):
            return username
    return None


def digest_authorization(challenge, username, password, method, uri):
    """The Authorization header answering a server's Digest challenge (we as the client)."""
    p = parse_digest(challenge.partition(" ")[2])
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    qop = "auth" if "auth" in [q.strip() for q in p.get("qop", "").split(",")] else None
    nc, cnonce = "00000001", binascii.hexlify(os.urandom(8)).decode()
    response = digest_response(username, password, realm, method, uri, nonce, nc, cnonce, qop)
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
             f'response="{response}"', "algorithm=MD5"]
    if qop:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if "opaque" in p:
        parts.append(f'opaque="{p["opaque"]}"')
    return "Digest " + ", ".join(parts)
