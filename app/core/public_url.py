"""The portal's own address. Absolute links (reset links and sign-in links in mail) are built
from PUBLIC_URL, never from the request's Host header, and a request naming a host outside
TRUSTED_HOSTS is refused with 400: a "forgot password" POST sent with `Host: evil.example`
used to mail a genuine reset link pointing at evil.example.

TRUSTED_HOSTS is Flask's own check, so it covers what Flask serves; the ACS mounted beside it
at /acs (app/device_ops/cwmp.py) never reaches Flask and is not covered.
"""

from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext
from werkzeug.exceptions import SecurityError

DEVELOPMENT_URL = "http://127.0.0.1:8080"  # what scripts/run.sh serves by default
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def init_public_url(app):
    """Check PUBLIC_URL, derive TRUSTED_HOSTS when unset, refuse other hosts. Called before
    any other request hook is registered, so the refusal runs first."""
    url = app.config.get("PUBLIC_URL")
    if not url:
        if app.config.get("YMCS_ENV") == "production":
            raise RuntimeError(
                "Set PUBLIC_URL to the portal's address as its users reach it, e.g. "
                "PUBLIC_URL=https://ymcs.example.com: links in mail are built from it.")
        url = DEVELOPMENT_URL
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
        valid = parts.scheme in ("http", "https") and parts.hostname and not (
            parts.query or parts.fragment or parts.username)
    except ValueError:
        valid = False
    if not valid:
        raise RuntimeError(f"PUBLIC_URL={url!r} is not an address like https://ymcs.example.com")
    app.config["PUBLIC_URL"] = url.rstrip("/")
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = default_trusted_hosts(app.config)
    app.before_request(refuse_untrusted_host)
    app.register_error_handler(SecurityError, untrusted_host_answer)


def default_trusted_hosts(config):
    """The hosts of PUBLIC_URL and of ACS_PUBLIC_URL (devices given that host fetch
    /provisioning/ and /rps/ from it too), plus loopback names outside production."""
    urls = [config["PUBLIC_URL"], config.get("ACS_PUBLIC_URL")]
    hosts = [urlsplit(url).hostname for url in urls if url]
    if config.get("YMCS_ENV") != "production":
        hosts += LOOPBACK_HOSTS
    # Werkzeug compares IPv6 hosts in their bracketed form.
    hosts = [f"[{host}]" if ":" in host else host for host in hosts if host]
    return list(dict.fromkeys(hosts))


def refuse_untrusted_host():
    """Flask only parks the refusal until the view runs; hooks before it (the sign-in checks,
    a redirect) build URLs, which an untrusted host leaves without an adapter."""
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def untrusted_host_answer(_error):
    # Plain text: the portal's page layout is made of URLs, and none can be built here.
    current_app.logger.warning("refused a request for Host %r: not in TRUSTED_HOSTS",
                               request.headers.get("Host"))
    text = gettext("This server does not answer to this host name. Open %(url)s instead.",
                   url=current_app.config["PUBLIC_URL"])
    return current_app.response_class(text + "\n", 400, mimetype="text/plain")


def external_url(endpoint, **values):
    """The absolute URL of a portal endpoint on PUBLIC_URL, with or without a request (mail
    sent by jobs). endpoint is the full name: "PasswordRecoveryView.reset"."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)
