"""SECURITY_HEADERS on every response, in one place.

A WSGI middleware rather than an after_request hook: it also sees what Flask never does, the
ACS mounted beside it at /acs, so every answer of this server carries the same headers. A
response that sets one of these headers itself keeps its own value.

The `Server` header is the HTTP server's, not the app's: Werkzeug's development server
(`flask run`) names itself and Python and offers no setting to stop it; gunicorn sends only
"gunicorn".
"""


class SecurityHeaders:
    def __init__(self, wsgi_app, headers):
        self.wsgi_app = wsgi_app
        self.headers = list(headers.items())

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            extra = [(n, v) for n, v in self.headers if n.lower() not in present]
            return start_response(status, headers + extra, exc_info)

        return self.wsgi_app(environ, start)
