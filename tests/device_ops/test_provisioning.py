"""Yealink provisioning files and the RPS lookup (app/device_ops/provisioning.py, yealink_cfg.py).

The module's tree ``pt`` is the standard one with ACS passwords on E, EB, SE and R, connection-
request credentials on E's first device, and an RPS device of R. Tests that change rows build a
fresh tree.
"""

import base64
import itertools
import time
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy
from flask_appbuilder import Model
from sqlalchemy import func, select

from app.device_ops import auth, yealink_cfg
from app.extensions import db
from app.models import Device, Enterprise, RpsDevice, Status

from ..conftest import TEST_SETTINGS, ids_of
from ..tree import build_tree

COMMON = "/provisioning/y000000000000.cfg"
SERVER_URL = "https://dm.example.com/rps/"
ACS_KEYS = [
    "static.managementserver.enable",
    "static.managementserver.url",
    "static.managementserver.username",
    "static.managementserver.password",
    "static.managementserver.periodic_inform_enable",
    "static.managementserver.periodic_inform_interval",
]
CR_KEYS = [
    "static.managementserver.connection_request_username",
    "static.managementserver.connection_request_password",
]
_macs = itertools.count(1)


def new_mac():
    return f"02fd{uuid.uuid4().hex[:4]}{next(_macs):04x}"


def _macs_of(session, enterprise_id):
    return list(session.execute(select(Device.mac).where(Device.enterprise_id == enterprise_id)
                                .order_by(Device.id)).scalars())


def _with_passwords(session, t, keys):
    out = ids_of(t)
    out.passwords = {}
    for key in keys:
        out.passwords[key] = auth.ensure_acs_password(session, getattr(t, key))
    return out


@pytest.fixture(scope="module")
def pt(app):
    with app.app_context():
        session = db.session
        t = build_tree(session, f"prov{uuid.uuid4().hex[:6]}")
        out = _with_passwords(session, t, ("E", "EB", "SE", "R"))
        first = session.execute(select(Device).where(Device.enterprise_id == t.E.id)
                                .order_by(Device.id)).scalars().first()
        first.cr_username, first.cr_password = "cr-user", "cr-Pass-1"
        out.rps_mac = new_mac()
        session.add(RpsDevice(mac=out.rps_mac, server_url=SERVER_URL, enterprise=t.R,
                              unique_url="https://unique-secret.example.com/x", ip="192.0.2.77"))
        session.commit()
        out.macs = {key: _macs_of(session, getattr(t, key).id) for key in ("E", "EB", "SE", "R")}
        return out


@pytest.fixture
def client(app):
    return app.test_client()


def creds(t, key):
    return f"ent{getattr(t, key)}", t.passwords[key]


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def challenge_of(response):
    assert response.status_code == 401
    values = response.headers.getlist("WWW-Authenticate")
    assert any(v.startswith("Basic ") for v in values)
    return next(v for v in values if v.startswith("Digest "))


def digest_get(client, uri, user, password, **kw):
    challenge = challenge_of(client.get(uri, **kw))
    header = auth.digest_authorization(challenge, user, password, "GET", uri)
    return client.get(uri, headers={"Authorization": header}, **kw)


def parse_cfg(response):
    """The file's settings; fails unless every line after the version line is `key = value`."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert "\r" not in text and text.endswith("\n")
    lines = text[:-1].split("\n")
    assert lines[0] == "#!version:1.0.0.1"
    settings = {}
    for line in lines[1:]:
        key, sep, value = line.partition(" = ")
        assert sep and yealink_cfg.KEY_RE.fullmatch(key), line
        assert key not in settings, f"{key} twice"
        settings[key] = value
    return settings


def db_snapshot(app):
    """Row counts of every table, and every enterprise's ACS password."""
    with app.app_context():
        existing = set(sqlalchemy.inspect(db.engine).get_table_names())
        counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                  for table in Model.metadata.sorted_tables if table.name in existing}
        passwords = dict(db.session.execute(select(Enterprise.id, Enterprise.acs_password)).all())
        db.session.rollback()
        return counts, passwords


# --- the file format, without HTTP ----------------------------------------------------------


def test_render_cfg_writes_the_version_line_then_key_value_lines():
    text = yealink_cfg.render_cfg([("a.b_c", "1"), ("x", 2), ("y", None)])
    assert text == "#!version:1.0.0.1\na.b_c = 1\nx = 2\ny = \n"


@pytest.mark.parametrize("key", ["a b", "a=b", "a\nb", "", "ключ", "a.b\n", None])
def test_render_cfg_refuses_a_key_outside_the_yealink_alphabet(key):
    with pytest.raises(yealink_cfg.InvalidKey):
        yealink_cfg.render_cfg([(key, "1")])


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\rb", "a\x00b", "a\u2028b", "a\x85b"])
def test_a_line_break_in_a_value_is_removed(value):
    assert yealink_cfg.clean_value(value) == "ab"


def test_common_settings_have_no_device_credentials(app):
    enterprise = SimpleNamespace(acs_username="ent7", acs_password="pw")
    pairs = yealink_cfg.effective_settings(None, enterprise, "https://acs/", app.config)
    assert [key for key, _ in pairs] == ACS_KEYS


# --- the common file ------------------------------------------------------------------------


def test_common_file_with_basic_enrolls_the_phone_in_our_acs(app, client, pt):
    user, password = creds(pt, "E")
    settings = parse_cfg(client.get(COMMON, headers=basic(user, password)))
    assert list(settings) == ACS_KEYS
    assert settings == {
        "static.managementserver.enable": "1",
        "static.managementserver.url": "http://localhost/acs",
        "static.managementserver.username": user,
        "static.managementserver.password": password,
        "static.managementserver.periodic_inform_enable": "1",
        "static.managementserver.periodic_inform_interval": "900",  # every 15 minutes
    }


def test_common_file_with_digest(client, pt):
    user, password = creds(pt, "E")
    settings = parse_cfg(digest_get(client, COMMON, user, password))
    assert settings["static.managementserver.username"] == user
    assert settings["static.managementserver.password"] == password


@pytest.mark.parametrize("name", ["y000000000044.cfg", "y0000000000ab.cfg", "Y0000000000AB.CFG"])
def test_every_hardware_code_gets_the_same_common_file(client, pt, name):
    headers = basic(*creds(pt, "E"))
    assert client.get(f"/provisioning/{name}", headers=headers).get_data() == \
        client.get(COMMON, headers=headers).get_data()


def test_acs_url_is_this_servers_by_default(app, client, pt, monkeypatch):
    # A name the server answers to; any other Host gets 400 (tests/core/test_public_url.py).
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", [*app.config["TRUSTED_HOSTS"],
                                                      "dm.example.org"])
    response = client.get(COMMON, headers=basic(*creds(pt, "E")),
                          base_url="https://dm.example.org:8443")
    assert parse_cfg(response)["static.managementserver.url"] == "https://dm.example.org:8443/acs"


def test_acs_public_url_setting_wins(app, client, pt, monkeypatch):
    monkeypatch.setitem(app.config, "ACS_PUBLIC_URL", "https://acs.example.net/cwmp")
    mac = pt.macs["E"][0]
    for uri in (COMMON, f"/provisioning/{mac}.cfg"):
        settings = parse_cfg(client.get(uri, headers=basic(*creds(pt, "E"))))
        assert settings["static.managementserver.url"] == "https://acs.example.net/cwmp"


# --- the device file ------------------------------------------------------------------------


def test_device_file_with_basic_adds_its_connection_request_credentials(client, pt):
    mac = pt.macs["E"][0]
    settings = parse_cfg(client.get(f"/provisioning/{mac}.cfg", headers=basic(*creds(pt, "E"))))
    assert list(settings) == ACS_KEYS + CR_KEYS
    assert settings[CR_KEYS[0]] == "cr-user"
    assert settings[CR_KEYS[1]] == "cr-Pass-1"
    assert settings["static.managementserver.password"] == pt.passwords["E"]


def test_device_file_with_digest_and_an_upper_case_mac(client, pt):
    uri = f"/provisioning/{pt.macs['E'][0].upper()}.cfg"
    settings = parse_cfg(digest_get(client, uri, *creds(pt, "E")))
    assert settings[CR_KEYS[0]] == "cr-user"


def test_device_file_omits_connection_request_credentials_it_does_not_have(client, pt):
    mac = pt.macs["E"][1]
    settings = parse_cfg(client.get(f"/provisioning/{mac}.cfg", headers=basic(*creds(pt, "E"))))
    assert list(settings) == ACS_KEYS


def test_another_enterprises_device_is_not_found(client, pt):
    """Same tree or another tree: the answer is the one for a MAC nobody has."""
    unknown = client.get(f"/provisioning/{new_mac()}.cfg", headers=basic(*creds(pt, "E")))
    assert unknown.status_code == 404
    for key, theirs in (("SE", "E"), ("EB", "E"), ("E", "SE"), ("E", "R")):
        response = client.get(f"/provisioning/{pt.macs[theirs][0]}.cfg",
                              headers=basic(*creds(pt, key)))
        assert response.status_code == 404, (key, theirs)
        assert response.get_data() == unknown.get_data()
        assert pt.passwords[theirs] not in response.get_data(as_text=True)


def test_an_rps_device_has_no_device_file(client, pt):
    response = client.get(f"/provisioning/{pt.rps_mac}.cfg", headers=basic(*creds(pt, "E")))
    assert response.status_code == 404


@pytest.mark.parametrize("name", [
    "001565fe00.cfg", "001565fe00011.cfg", "00:15:65:fe:00:01.cfg", "001565fe0001.boot",
    "001565fe0001-local.cfg", "y000000000000.boot", "y00000000000g.cfg", "y0000000000000.cfg",
    "00156gfe0001.cfg", "index.html",
])
def test_a_name_we_never_serve_is_not_found(client, pt, name):
    response = client.get(f"/provisioning/{name}", headers=basic(*creds(pt, "E")))
    assert response.status_code == 404


# --- refusals -------------------------------------------------------------------------------


def _assert_unauthorized(response):
    challenge_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "managementserver" not in response.get_data(as_text=True)


def test_no_credentials_is_challenged_for_digest_and_basic(client, pt):
    for uri in (COMMON, f"/provisioning/{pt.macs['E'][0]}.cfg",
                f"/provisioning/{new_mac()}.cfg"):
        _assert_unauthorized(client.get(uri))


@pytest.mark.parametrize("who, password", [
    ("own", "wrong"), ("own", ""), ("own", "right "), ("other tree", "right"),
    ("nobody", "right"), ("unknown", "right"), ("admin", "right"),
])
def test_wrong_credentials_are_refused(client, pt, who, password):
    user = {"own": f"ent{pt.E}", "other tree": f"ent{pt.SE}",
            "nobody": "ent999999999"}.get(who, who)
    password = password.replace("right", pt.passwords["E"])
    for uri in (COMMON, f"/provisioning/{pt.macs['E'][0]}.cfg"):
        _assert_unauthorized(client.get(uri, headers=basic(user, password)))
        _assert_unauthorized(digest_get(client, uri, user, password))


def test_a_non_canonical_user_name_is_refused(client, pt):
    _assert_unauthorized(client.get(COMMON, headers=basic(f"ent0{pt.E}", pt.passwords["E"])))
    _assert_unauthorized(client.get(COMMON, headers=basic(f"ENT{pt.E}", pt.passwords["E"])))


def test_an_rps_enterprise_is_refused_even_with_a_password(client, pt):
    mac = pt.macs["R"][0]
    for uri in (COMMON, f"/provisioning/{mac}.cfg"):
        _assert_unauthorized(client.get(uri, headers=basic(*creds(pt, "R"))))


def test_an_enterprise_without_an_acs_password_is_refused(client, pt):
    for password in ("", "None", "null"):
        _assert_unauthorized(client.get(COMMON, headers=basic(f"ent{pt.ER}", password)))
        _assert_unauthorized(digest_get(client, COMMON, f"ent{pt.ER}", password))


def test_a_frozen_enterprise_is_refused(app, client, fresh_tree):
    with app.app_context():
        enterprise = db.session.get(Enterprise, fresh_tree.E)
        password = auth.ensure_acs_password(db.session, enterprise)
        mac = _macs_of(db.session, fresh_tree.E)[0]
        db.session.commit()
    uri = f"/provisioning/{mac}.cfg"
    assert client.get(uri, headers=basic(f"ent{fresh_tree.E}", password)).status_code == 200
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).status = Status.frozen
        db.session.commit()
    _assert_unauthorized(client.get(uri, headers=basic(f"ent{fresh_tree.E}", password)))
    _assert_unauthorized(digest_get(client, COMMON, f"ent{fresh_tree.E}", password))


def test_a_digest_answer_for_another_file_is_refused(client, pt):
    user, password = creds(pt, "E")
    challenge = challenge_of(client.get(COMMON))
    header = auth.digest_authorization(challenge, user, password, "GET", COMMON)
    assert client.get(COMMON, headers={"Authorization": header}).status_code == 200
    uri = f"/provisioning/{pt.macs['E'][0]}.cfg"
    _assert_unauthorized(client.get(uri, headers={"Authorization": header}))


@pytest.mark.parametrize("nonce", [
    # ours, but expired
    auth.make_nonce(TEST_SETTINGS["SECRET_KEY"], now=time.time() - auth.NONCE_SECONDS - 5),
    auth.make_nonce("another-secret"),  # not ours
    "123.abc", "", "é.é",
], ids=["expired", "another-key", "not-a-nonce", "empty", "non-ascii"])  # ids: xdist's workers
# collect at different times, and every worker must collect the same test names
def test_a_digest_with_a_stale_or_forged_nonce_is_refused(client, pt, nonce):
    challenge = f'Digest realm="{auth.REALM}", qop="auth", nonce="{nonce}"'
    header = auth.digest_authorization(challenge, *creds(pt, "E"), "GET", COMMON)
    _assert_unauthorized(client.get(COMMON, headers={"Authorization": header}))


def test_a_newline_in_a_stored_value_cannot_add_a_line(app, client, fresh_tree):
    injected = "static.managementserver.url = http://evil.example/acs"
    with app.app_context():
        password = auth.ensure_acs_password(db.session, db.session.get(Enterprise, fresh_tree.E))
        device = db.session.execute(select(Device).where(
            Device.enterprise_id == fresh_tree.E)).scalars().first()
        device.cr_username = f"u\r\n{injected}"
        device.cr_password = "p\nstatic.x = 1\u2028static.y = 2"
        mac = device.mac
        db.session.commit()
    response = client.get(f"/provisioning/{mac}.cfg",
                          headers=basic(f"ent{fresh_tree.E}", password))
    settings = parse_cfg(response)
    assert list(settings) == ACS_KEYS + CR_KEYS
    assert settings["static.managementserver.url"] == "http://localhost/acs"
    assert settings[CR_KEYS[0]] == f"u{injected}"
    assert settings[CR_KEYS[1]] == "pstatic.x = 1static.y = 2"


# --- the RPS lookup -------------------------------------------------------------------------


def _spellings(mac):
    octets = [mac[i:i + 2] for i in range(0, 12, 2)]
    return [mac, mac.upper(), ":".join(octets).upper(), "-".join(octets), ".".join(
        [mac[0:4], mac[4:8], mac[8:12]])]


def test_rps_lookup_answers_the_server_url_whatever_the_mac_spelling(client, pt):
    for spelled in _spellings(pt.rps_mac):
        for response in (client.get("/rps/lookup", query_string={"mac": spelled}),
                         client.get(f"/rps/{spelled}")):
            assert response.status_code == 200
            assert response.get_json() == {"mac": pt.rps_mac, "server_url": SERVER_URL}
            assert response.headers["Cache-Control"] == "no-store"


def test_rps_lookup_reveals_nothing_but_the_server_url(app, client, pt):
    answer = client.get("/rps/lookup", query_string={"mac": pt.rps_mac}).get_json()
    with app.app_context():
        name = db.session.get(Enterprise, pt.R).name
    assert set(answer) == {"mac", "server_url"}
    # the enterprise id is checked against the server URL only: a random MAC may hold its digits
    for secret in ("unique-secret", "192.0.2.77", name, str(pt.R), "ent"):
        assert secret not in answer["server_url"]
    for secret in ("unique-secret", "192.0.2.77", name, "ent"):
        assert secret not in answer["mac"]


def test_rps_lookup_of_an_unknown_mac_is_404(client, pt):
    for response in (client.get("/rps/lookup", query_string={"mac": new_mac()}),
                     client.get(f"/rps/{new_mac()}"),
                     client.get("/rps/lookup", query_string={"mac": pt.macs["E"][0]})):
        assert response.status_code == 404
        assert set(response.get_json()) == {"error"}


@pytest.mark.parametrize("query", [
    "", "?mac=", "?mac=xyz", "?mac=001565fe00", "?mac=001565fe0001ff", "?foo=bar",
    "?mac=00:15:65:fe:00:0g",
])
def test_rps_lookup_of_a_missing_or_malformed_mac_is_400(client, pt, query):
    response = client.get(f"/rps/lookup{query}")
    assert response.status_code == 400
    assert set(response.get_json()) == {"error"}


WEIRD = ["../", "..%2f..%2fetc%2fpasswd", "%00", "a%00b", "0" * 5000, "é", "ｙ000000000000",
         "００１５６５ＦＥ０００１", "%ff%fe", "%0d%0aSet-Cookie:x=1", "\u2028", "<script>",
         "001565fe0001%00", "y000000000000.cfg%0a", "' OR 1=1 --"]


@pytest.mark.parametrize("weird", WEIRD)
def test_weird_input_never_fails_the_server(client, pt, weird):
    headers = basic(*creds(pt, "E"))
    for uri in (f"/provisioning/{weird}", f"/provisioning/{weird}.cfg",
                f"/provisioning/../{weird}"):
        assert client.get(uri, headers=headers).status_code in (401, 404)
        assert client.get(uri).status_code in (401, 404)
    for uri in (f"/rps/lookup?mac={weird}", f"/rps/{weird}"):
        response = client.get(uri)
        assert response.status_code in (400, 404), uri
        if uri.startswith("/rps/lookup"):
            assert set(response.get_json()) == {"error"}


def _weird_authorizations(pt, nonce):
    user = f"ent{pt.E}"
    return [
        "Basic é", "Basic", "Basic ====", "Basic " + base64.b64encode(b"ent\xb2:x").decode(),
        "Basic " + base64.b64encode("ent²:x".encode()).decode(),
        "Basic " + base64.b64encode("ent١:x".encode()).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + "A" * 20000, "Bearer abc", "Digest", "Digest garbage", 'Digest a="',
        f'Digest username="{user}", realm="{auth.REALM}", nonce="{nonce}", uri="{COMMON}", '
        'response="é", qop=auth, nc=00000001, cnonce="x"',
        f'Digest username="{user}", realm="{auth.REALM}", nonce="1.é", uri="{COMMON}", '
        'response="0"',
        f'Digest username="{user}", realm="{auth.REALM}", nonce="{nonce}", uri="{COMMON}", '
        'response="0", algorithm=SHA-256',
        f'Digest username="{user}", realm="{auth.REALM}", nonce="{nonce}"',
    ]


def test_weird_authorization_headers_are_refused_not_failed(client, pt):
    nonce = auth.parse_digest(challenge_of(client.get(COMMON)).partition(" ")[2])["nonce"]
    for header in _weird_authorizations(pt, nonce):
        _assert_unauthorized(client.get(COMMON, headers={"Authorization": header}))


def test_no_request_writes_to_the_database(app, client, pt):
    before = db_snapshot(app)
    headers = basic(*creds(pt, "E"))
    mac = pt.macs["E"][0]
    assert client.get(COMMON).status_code == 401
    assert client.get(COMMON, headers=headers).status_code == 200
    assert digest_get(client, f"/provisioning/{mac}.cfg", *creds(pt, "E")).status_code == 200
    assert client.get(f"/provisioning/{new_mac()}.cfg", headers=headers).status_code == 404
    assert client.get(f"/provisioning/{pt.macs['SE'][0]}.cfg",
                      headers=headers).status_code == 404
    assert client.get(COMMON, headers=basic(f"ent{pt.E}", "wrong")).status_code == 401
    assert client.get(COMMON, headers=basic(f"ent{pt.ER}", "")).status_code == 401
    assert client.get(f"/rps/lookup?mac={pt.rps_mac}").status_code == 200
    assert client.get(f"/rps/{new_mac()}").status_code == 404
    assert client.get("/rps/lookup?mac=bad").status_code == 400
    assert db_snapshot(app) == before
