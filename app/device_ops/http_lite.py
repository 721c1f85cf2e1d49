"""The ACS's request and response: only what a CWMP exchange reads and sends.

Werkzeug's Request and Response objects (header maps, lazy properties, response iterators)
cost a periodic session more CPU than its XML. These keep Werkzeug's rules where they matter —
its input stream (never read past Content-Length; a short body is ClientDisconnected), its
content length, its host check against TRUSTED_HOSTS (SecurityError), its cookie parser — and
build the few responses the ACS sends as a status line, a header list and one body.
"""

import time
from http import HTTPStatus

from werkzeug.http import http_date, parse_cookie
from werkzeug.sansio.utils import get_host
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_content_length, get_input_stream

STATUS = {s.value: f"{s.value} {s.phrase.upper()}" for s in HTTPStatus}


class LiteRequest:
    """What the ACS reads of a request, from the WSGI environ."""

    __slots__ = ("environ", "trusted_hosts", "_stream", "_cookies")

    def __init__(self, environ, trusted_hosts=None):
        self.environ = environ
        self.trusted_hosts = trusted_hosts
        self._stream = self._cookies = None

    @property
    def method(self):
        return self.environ.get("REQUEST_METHOD", "GET").upper()

    @property
    def path(self):
        raw = self.environ.get("PATH_INFO") or ""
        return "/" + raw.encode("latin-1").decode("utf-8", "replace").lstrip("/")

    @property
    def host(self):
        """Werkzeug's Request.host: raises SecurityError for a host not trusted."""
        e = self.environ
        server = (e["SERVER_NAME"], int(e["SERVER_PORT"])) if "SERVER_NAME" in e else None
        return get_host(e.get("wsgi.url_scheme", "http"), e.get("HTTP_HOST"), server,
                        self.trusted_hosts)

    @property
    def host_url(self):
        request = Request(self.environ)
        request.trusted_hosts = self.trusted_hosts
        return request.host_url

    @property
    def remote_addr(self):
        return self.environ.get("REMOTE_ADDR")

    @property
    def authorization_header(self):
        return self.environ.get("HTTP_AUTHORIZATION")

    @property
    def content_length(self):
        return get_content_length(self.environ)

    @property
    def stream(self):
        if self._stream is None:
            self._stream = get_input_stream(self.environ)
        return self._stream

    def cookie(self, name):
        header = self.environ.get("HTTP_COOKIE")
        if not header:
            return None
        if self._cookies is None:
            self._cookies = parse_cookie(header)
        return self._cookies.get(name)


class LiteResponse:
    """A WSGI response of one body: ``status`` an int, ``headers`` [(name, value)]."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, body=b"", status=200, headers=None, content_type=None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = list(headers or ())
        if status != 204:
            if content_type:
                self.headers.append(("Content-Type", content_type))
            self.headers.append(("Content-Length", str(len(self.body))))

    def __call__(self, environ, start_response):
        start_response(STATUS.get(self.status) or f"{self.status} UNKNOWN", self.headers)
        return [self.body] if self.body else []


def session_cookie(name, value, max_age, path, secure):
    """The Set-Cookie value Werkzeug's set_cookie(httponly=True) writes for these."""
    expires = http_date(time.time() + max_age)
    return (f"{name}={value}; Expires={expires}; Max-Age={max_age}"
            f"{'; Secure' if secure else ''}; HttpOnly; Path={path}")


def deleted_cookie(name, path):
    """The Set-Cookie value of Werkzeug's delete_cookie."""
    return f"{name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path={path}"
