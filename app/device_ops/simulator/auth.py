"""HTTP auth of the simulated phone: Digest on its own listener, and answering the 401s of the
ACS and of file servers."""

import hashlib
import re
import secrets
import threading
import time
from urllib.parse import urlsplit

from requests.auth import HTTPBasicAuth, HTTPDigestAuth


class DigestGuard:
    """Server side of HTTP Digest (RFC 2617, MD5, qop=auth): fresh nonce per challenge."""

    def __init__(self, realm="Yealink", lifetime=300):
        self.realm, self.lifetime = realm, lifetime
        self._nonces, self._lock = {}, threading.Lock()

    def challenge(self):
        nonce = secrets.token_hex(16)
        with self._lock:
            now = time.monotonic()
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < self.lifetime}
            self._nonces[nonce] = now
        return (f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", '
                f'opaque="{secrets.token_hex(8)}", algorithm=MD5')

    def check(self, header, method, path, username, password):
        if not header or not header.lower().startswith("digest "):
            return False
        f = {k.lower(): a if a else b for k, a, b in
             re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', header[7:])}
        with self._lock:
            issued = self._nonces.get(f.get("nonce", ""))
        if issued is None or time.monotonic() - issued > self.lifetime:
            return False
        if f.get("username") != username or f.get("realm") != self.realm:
            return False
        if f.get("algorithm", "MD5").upper() != "MD5":
            return False
        if urlsplit(f.get("uri", "")).path != urlsplit(path).path:
            return False

        def md5(s):
            return hashlib.md5(s.encode()).hexdigest()

        ha1, ha2 = md5(f"{username}:{self.realm}:{password}"), md5(f"{method}:{f.get('uri')}")
        if f.get("qop"):
            expected = md5(f"{ha1}:{f['nonce']}:{f.get('nc')}:{f.get('cnonce')}:{f['qop']}:{ha2}")
        else:  # RFC 2069 clients
            expected = md5(f"{ha1}:{f['nonce']}:{ha2}")
        return secrets.compare_digest(expected, f.get("response", ""))


def transfer_auth(http, resp, username, password):
    """Answer a 401 with whatever scheme the server challenged; True if worth retrying."""
    scheme = resp.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
    if scheme == "digest" and not isinstance(http.auth, HTTPDigestAuth):
        http.auth = HTTPDigestAuth(username, password)
        return True
    if scheme == "basic" and not isinstance(http.auth, HTTPBasicAuth):
        http.auth = HTTPBasicAuth(username, password)
        return True
    return False
