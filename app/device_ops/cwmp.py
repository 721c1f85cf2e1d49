"""The TR-069 ACS endpoint: a lean WSGI app mounted at /acs beside the portal.

A CWMP session is a series of HTTP POSTs from the device: Inform (answered InformResponse),
maybe TransferComplete, then empty POSTs answered with our RPCs until an empty 204 ends it.
The session's state (device, namespace, the command in flight) lives in a signed cookie, so
any web node serves any request of a session and nothing sits in process memory.

Flask's request machinery (portal session, CSRF, menus, babel) is not on this path: a device's
periodic session is one SELECT, one UPDATE and one INSERT on an autocommit connection.
"""

import hashlib
import logging
import os
import secrets
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import ClientDisconnected, SecurityError
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from app.device_ops import (
    auth,
    capabilities,
    device_files,
    fault_events,
    http_lite,
    identity,
    inventory,
    provisioning,
    rpc,
    soap,
    vendor_map,
)
from app.models import CommandStatus, Device, DeviceCommand
from app.orders.rules import QuotaExceeded

log = logging.getLogger(__name__)

COOKIE = "cwmp_session"
SESSION_SECONDS = 600  # a CWMP session longer than this starts over with an Inform
TEXT_XML = 'text/xml; charset="utf-8"'
_END_COOKIE = http_lite.deleted_cookie(COOKIE, "/acs")


def mount_acs(app):
    acs = AcsApp(app)
    app.extensions["ymcs_acs"] = acs
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/acs": acs})


def _acs_engine(app):
    """An autocommit engine of our own: a periodic Inform's statements need no transaction,
    and skipping COMMIT, the pool's pre-ping and the ROLLBACK on check-in (measured: a round
    trip each) leaves one per statement."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = {"isolation_level": "AUTOCOMMIT", "pool_recycle": 3600,
               "skip_autocommit_rollback": True}
    engine = create_engine(url, **options)
    if url.startswith("sqlite"):
        from app.extensions import sqlite_pragmas

        event.listen(engine, "connect", sqlite_pragmas)
    elif engine.dialect.name in ("mysql", "mariadb"):
        event.listen(engine, "connect", _read_committed)
    return engine


def _read_committed(dbapi_connection, _record):
    """The few transactions of this connection (an Inform's events) take no gap locks: under
    REPEATABLE READ, the UPDATE that finds no open alarm locked the index gap, and two
    devices' Informs raising new alarms at once deadlocked inserting into each other's gap."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    cursor.close()


class AcsApp:
    def __init__(self, app):
        from app.extensions import db

        self.config = app.config
        self.instance_path = app.instance_path
        self.secret = app.config["SECRET_KEY"]
        self.signer = URLSafeTimedSerializer(self.secret, salt="cwmp-session")
        self.max_body = app.config["CWMP_MAX_BODY_BYTES"]
        self._app = app
        self._fast = None
        self._sessions = None
        with app.app_context():
            self._orm_engine = db.engine

    # Engines are made on first use: gunicorn forks workers after the app is built.
    @property
    def fast(self):
        if self._fast is None:
            self._fast = _acs_engine(self._app)
        return self._fast

    def orm(self):
        if self._sessions is None:
            self._sessions = sessionmaker(bind=self._orm_engine, expire_on_commit=False)
        return self._sessions()

    def __call__(self, environ, start_response):
        # The portal's TRUSTED_HOSTS rule, here too: URLs handed to devices may be built from
        # the Host header (without ACS_PUBLIC_URL), so only a host we answer to is taken.
        request = http_lite.LiteRequest(environ, self.config.get("TRUSTED_HOSTS") or None)
        try:
            if request.trusted_hosts:
                request.host  # noqa: B018  (raises SecurityError for a host not trusted)
            response = self.dispatch(request)
        except SecurityError:
            response = Response("This server does not answer to this host name.\n", 400,
                                mimetype="text/plain")
        except OperationalError:
            log.exception("ACS: database unavailable")
            response = Response("database unavailable, retry later\n", 503,
                                {"Retry-After": "60"}, mimetype="text/plain")
        except ClientDisconnected:
            response = Response("incomplete body\n", 400, mimetype="text/plain")
        return response(environ, start_response)

    def dispatch(self, request):
        path = request.path.rstrip("/")
        if path in ("", "/"):
            if request.method != "POST":
                return Response("CWMP endpoint: POST only\n", 405, {"Allow": "POST"},
                                mimetype="text/plain")
            return self.cwmp(request)
        if path == "/health":
            return Response("ok\n", mimetype="text/plain")
        if path.startswith("/file/"):
            if request.method != "GET":  # a HEAD would spend the one-time URL
                return Response("GET the file here\n", 405, {"Allow": "GET"},
                                mimetype="text/plain")
            return self.serve_download(request, path[len("/file/"):])
        if path.startswith("/upload/"):
            if request.method not in ("PUT", "POST"):
                return Response("PUT the file here\n", 405, {"Allow": "PUT, POST"},
                                mimetype="text/plain")
            return self.receive_upload(request, path[len("/upload/"):])
        return Response("not found\n", 404, mimetype="text/plain")

    # --- the session cookie -------------------------------------------------------------------

    def load_state(self, request):
        raw = request.cookie(COOKIE)
        if not raw:
            return None
        try:
            state = self.signer.loads(raw, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return state if isinstance(state, dict) and "d" in state else None

    def reply(self, body, state, status=200):
        headers = []
        if state is not None:
            headers.append(("Set-Cookie", http_lite.session_cookie(
                COOKIE, self.signer.dumps(state), SESSION_SECONDS, "/acs",
                self.config.get("CWMP_COOKIE_SECURE", False))))
        return http_lite.LiteResponse(body, status, headers, TEXT_XML if body else None)

    def end(self):
        return http_lite.LiteResponse(b"", 204, [("Set-Cookie", _END_COOKIE)])

    # --- POST /acs ----------------------------------------------------------------------------

    def read_body(self, request):
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        data = request.stream.read(self.max_body + 1)
        return None if len(data) > self.max_body else data

    def credentials_valid(self, request):
        header = request.authorization_header
        if not header:
            return False
        with self.fast.connect() as conn:
            return inventory.credentials_valid(conn, header, self.secret)

    def cwmp(self, request):
        """Credentials come before anything a request contains: without a session cookie,
        only an Inform of a device that may connect (inventory.authenticate) or a request with
        valid ACS credentials gets past the 401 challenge."""
        state = self.load_state(request)
        data = self.read_body(request)
        if data is None:
            if state is None and not self.credentials_valid(request):
                return self.refuse(401, "valid ACS credentials required")
            return Response("envelope too large\n", 413, {"Connection": "close"},
                            mimetype="text/plain")
        try:
            message = soap.parse(data)
        except soap.CwmpError as exc:
            if state is None and not self.credentials_valid(request):
                return self.refuse(401, "valid ACS credentials required")
            return Response(f"{exc}\n", 400, mimetype="text/plain")
        if message is not None and message.name == "Inform":
            try:
                return self.inform(request, message)
            except soap.CwmpError as exc:
                if not self.credentials_valid(request):
                    return self.refuse(401, "valid ACS credentials required")
                return self.reply(soap.fault(message.ns, message.cwmp_id, exc.code, str(exc)),
                                  None, 400)
        if state is None:
            if not self.credentials_valid(request):
                return self.refuse(401, "valid ACS credentials required")
            if message is None:
                return self.end()
            if message.name == "GetRPCMethods":
                return self.reply(soap.get_rpc_methods_response(message.ns, message.cwmp_id),
                                  None)
            return self.reply(soap.fault(message.ns, message.cwmp_id, 8003,
                                         "no session: start with Inform"), None, 400)
        if message is None:
            return self.next_for(request, state)
        try:
            if message.name == "GetRPCMethods":
                return self.reply(soap.get_rpc_methods_response(message.ns, message.cwmp_id),
                                  state)
            state["n"] = message.ns
            if message.name == "TransferComplete":
                with self.orm() as session:
                    rpc.handle_transfer_complete(session, state, message)
                return self.reply(soap.transfer_complete_response(message.ns, message.cwmp_id),
                                  state)
            if message.name.endswith("Response") or message.name == "Fault":
                return self.answer(request, state, message)
        except soap.CwmpError as exc:
            return self.reply(soap.fault(message.ns, message.cwmp_id, exc.code, str(exc)), None,
                              400)
        # TR-069's code for an ACS is 8000; the product asks for 9000, "method not supported".
        return self.reply(soap.fault(message.ns, message.cwmp_id, 9000,
                                     f"method not supported: {message.name[:64]}"), state)

    def inform(self, request, message):
        inform = soap.parse_inform(message)
        mac, key = identity.mac_of(inform), identity.cpe_key_of(inform)
        if mac is None and key is None:
            raise soap.CwmpError("the Inform names no device: no MAC address and no "
                                 "OUI and SerialNumber in its DeviceId", 8003)
        with self.fast.connect() as conn:
            row = identity.find(conn, mac, key)
            try:
                row, enterprise_id, first = inventory.authenticate(
                    conn, row, request.authorization_header, self.secret)
            except inventory.Refused as exc:
                return self.refuse(exc.status, exc.reason)
            if first:  # a pre-registered device's one session without credentials
                if inventory.claim_first_contact(conn, row.id) is None:
                    return self.refuse(401, "valid ACS credentials required")
            elif row is not None and row.enterprise_id is not None and (
                    row.device_password is None):
                # it proved the enterprise's credentials: its free first session is gone
                conn.execute(inventory.CLAIM, {"did": row.id, "password": ""})
            device_id = row.id if row is not None else None
            if row is None or row.enterprise_id is None:
                with self.orm() as session:
                    try:
                        device_id = inventory.bind_device(session, mac, key, enterprise_id)
                    except QuotaExceeded as exc:
                        return self.refuse(403, str(exc))
                    except inventory.Refused as exc:
                        return self.refuse(exc.status, exc.reason)
                row = conn.execute(identity.BY_ID, {"did": device_id}).first()
            identity.remember_key(conn, row, key)
            # The device row, "Device offline" cleared, the fault events: one commit.
            (root, read), raised = fault_events.record_with_events(
                conn, row, device_id, inform, lambda: inventory.record_inform(
                    conn, row, device_id, inform, request.remote_addr))
        work = fault_events.on_inform(self, row, device_id, inform, raised) or row.has_work
        codes = inform.event_codes
        if work or row.cr_username is None or "0 BOOTSTRAP" in codes or (
                vendor_map.RECORDING_EVENT in codes):
            with self.orm() as session:
                if row.cr_username is None or "0 BOOTSTRAP" in codes:
                    device = session.get(Device, device_id)
                    device.data_model = root
                    rpc.queue_setup(session, device, self.config["DEVICE_PERIODIC_INTERVAL"])
                    work = True
                if rpc.on_inform_events(session, device_id, inform,
                                        diagnostics_timeout=self.diagnostics_timeout):
                    work = True
                session.commit()
        ask_mac = row.mac is None and identity.MAC_PARAMETERS.get(root) not in (
            capabilities.missing_of(row.missing_parameters))
        state = {"d": device_id, "n": message.ns, "r": root, "w": bool(work),
                 "m": read, "a": ask_mac, "c": None, "p": None}
        return self.reply(soap.inform_response(message.ns, message.cwmp_id), state)

    @property
    def diagnostics_timeout(self):
        return int(self.config.get("DIAGNOSTICS_TIMEOUT_SECONDS", 300))

    def refuse(self, status, reason):
        headers = auth.challenge_headers(self.secret) if status == 401 else []
        return Response(f"{reason}\n", status, headers, mimetype="text/plain")

    def base_url(self, request):
        """Where upload and provisioning URLs handed to devices point: ACS_PUBLIC_URL's server
        when set (never a Host header the device chose), else this request's."""
        public = self.config.get("ACS_PUBLIC_URL")
        if public:
            parts = urlsplit(public)
            return f"{parts.scheme}://{parts.netloc}/"
        return request.host_url

    def next_for(self, request, state):
        """The session's next RPC after an empty POST or an answer, or 204 to end it. The
        ACS's own reads come first: the MAC of a device known by DeviceId, then CPU/memory
        (only the names the device has; after a fault 9005 on several, one at a time)."""
        ns = state["n"]
        if state.get("a"):
            state["a"], state["p"], state["c"] = False, "mac", None
            state["mn"] = [identity.MAC_PARAMETERS.get(state["r"], identity.MAC_PARAMETERS[
                "Device"])]
            return self.reply(soap.get_parameter_values(ns, "mac", state["mn"]), state)
        if state.get("m"):
            state["mn"], state["m"] = state["m"], []
            state["p"], state["c"], state["mv"] = "metrics", None, {}
            return self.reply(soap.get_parameter_values(ns, "metrics", state["mn"]), state)
        if state.get("mq"):
            state["mn"] = [state["mq"].pop(0)]
            state["p"], state["c"] = "probe", None
            return self.reply(soap.get_parameter_values(ns, "metrics", state["mn"]), state)
        if state.get("w"):
            with self.orm() as session:
                body = rpc.next_rpc(session, state, self.base_url(request),
                                    secret=self.secret)
            if body is not None:
                return self.reply(body, state)
            state["w"] = False
        return self.end()

    def own_read_answered(self, state, message):
        """The device's answer to the ACS's own MAC or CPU/memory read."""
        phase, names = state.pop("p"), state.pop("mn", [])
        state["p"] = None
        fault = message.fault.get("code") if message.name == "Fault" else None
        with self.fast.connect() as conn:
            if fault == 9005 and len(names) > 1:
                state["mq"] = list(names)  # which of them? ask one at a time
                return
            if fault == 9005:
                capabilities.record_missing(conn, state["d"], names)
            values = (soap.parameter_values(message.body)
                      if message.name == "GetParameterValuesResponse" else {})
            if phase == "mac":
                if values:
                    with self.orm() as session:
                        identity.learn_mac(session, state["d"], values.get(names[0]))
                return
            state.setdefault("mv", {}).update(values)
            if fault not in (None, 9005):
                return  # an answer that is no answer: counted as unanswered
            if not state.get("mq"):
                inventory.record_metrics(conn, state["d"], state.pop("mv"), state["r"])

    def answer(self, request, state, message):
        if state.get("p") in ("mac", "metrics", "probe"):
            self.own_read_answered(state, message)
            return self.next_for(request, state)
        with self.orm() as session:
            follow_up = rpc.handle_answer(session, state, message)
        if follow_up is not None:
            return self.reply(follow_up, state)
        return self.next_for(request, state)

    # --- GET /acs/file/<token> ----------------------------------------------------------------

    def serve_download(self, request, token):
        """The one-time URL of a Download of the device's own provisioning file: the first
        GET while its command is in flight gets the file, anything else a 404. Devices that
        ignore the credentials in a Download get their file all the same."""
        if not token or len(token) > 64:
            return Response("not found\n", 404, mimetype="text/plain")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.orm() as session:
            command = session.execute(select(DeviceCommand).where(
                DeviceCommand.upload_token == digest, DeviceCommand.kind == "download",
                DeviceCommand.status.in_((CommandStatus.sent, CommandStatus.waiting)))
            ).scalar_one_or_none()
            if command is None:
                return Response("not found\n", 404, mimetype="text/plain")
            claimed = session.execute(
                update(DeviceCommand).where(DeviceCommand.id == command.id,
                                            DeviceCommand.upload_token == digest)
                .values(upload_token=None)
                .execution_options(synchronize_session=False)).rowcount
            if not claimed:
                session.rollback()
                return Response("not found\n", 404, mimetype="text/plain")
            device = session.get(Device, command.device_id)
            body = provisioning.device_file_text(
                session, device, self.config.get("ACS_PUBLIC_URL") or (
                    self.base_url(request) + "acs"), self.config)
            session.commit()
        response = Response(body, 200, mimetype="text/plain")
        response.headers["Cache-Control"] = "no-store"
        return response

    # --- PUT /acs/upload/<token> --------------------------------------------------------------

    def receive_upload(self, request, token):
        """The one-time URL of an Upload command: the first complete PUT is kept, any other
        (a replay, a wrong token, too big) gets a 4xx and stores nothing."""
        if not token or len(token) > 64:
            return Response("not found\n", 404, mimetype="text/plain")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.orm() as session:
            command = session.execute(select(DeviceCommand).where(
                DeviceCommand.upload_token == digest, DeviceCommand.kind == "upload",
                DeviceCommand.status.in_((CommandStatus.sent, CommandStatus.waiting)),
                DeviceCommand.file_name.is_(None))).scalar_one_or_none()
            if command is None:
                return Response("not found\n", 404, mimetype="text/plain")
            file_type = rpc.arguments_of(command).get("file_type")
            limit = device_files.limit_of(file_type, self.config["UPLOAD_MAX_BYTES"])
            if request.content_length is not None and request.content_length > limit:
                return Response("file too large\n", 413, {"Connection": "close"},
                                mimetype="text/plain")
            folder = os.path.join(self.config.get("FILE_STORE_DIR")
                                  or os.path.join(self.instance_path, "files"), "uploads")
            os.makedirs(folder, exist_ok=True)
            stem = f"device{command.device_id}-cmd{command.id}-{secrets.token_hex(4)}"
            path = os.path.join(folder, stem)
            size = 0
            with open(path + ".part", "wb") as out:
                while True:
                    chunk = request.stream.read(64 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        break
                    out.write(chunk)
            if size > limit:
                os.unlink(path + ".part")
                return Response("file too large\n", 413, {"Connection": "close"},
                                mimetype="text/plain")
            # Its first bytes say what it is (never its name or Content-Type): a file that is
            # not what was asked for is refused, and the device's TransferComplete says so.
            with open(path + ".part", "rb") as stored:
                known = device_files.recognise(file_type, stored.read(device_files.HEAD_BYTES))
            if known is None:
                os.unlink(path + ".part")
                return Response("not the kind of file asked for\n", 415,
                                mimetype="text/plain")
            name = stem + known[0]
            claimed = session.execute(
                update(DeviceCommand).where(DeviceCommand.id == command.id,
                                            DeviceCommand.upload_token == digest,
                                            DeviceCommand.file_name.is_(None))
                .values(file_name=f"uploads/{name}", file_size=size, upload_token=None)
                .execution_options(synchronize_session=False)).rowcount
            if not claimed:
                session.rollback()
                os.unlink(path + ".part")
                return Response("not found\n", 404, mimetype="text/plain")
            os.replace(path + ".part", os.path.join(folder, name))
            session.commit()
        return Response(status=204)
