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
from werkzeug.wrappers import Request, Response

from app.device_ops import auth, fault_events, inventory, rpc, soap
from app.models import CommandStatus, Device, DeviceCommand
from app.orders.rules import QuotaExceeded

log = logging.getLogger(__name__)

COOKIE = "cwmp_session"
SESSION_SECONDS = 600  # a CWMP session longer than this starts over with an Inform
TEXT_XML = 'text/xml; charset="utf-8"'
UPLOAD_SUFFIX = {"1 Vendor Configuration File": ".cfg", "2 Vendor Log File": ".log"}


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
    return engine


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
        request = Request(environ)
        # The portal's TRUSTED_HOSTS rule, here too: URLs handed to devices may be built from
        # the Host header (without ACS_PUBLIC_URL), so only a host we answer to is taken.
        request.trusted_hosts = self.config.get("TRUSTED_HOSTS") or None
        try:
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
        if path.startswith("/upload/"):
            if request.method not in ("PUT", "POST"):
                return Response("PUT the file here\n", 405, {"Allow": "PUT, POST"},
                                mimetype="text/plain")
            return self.receive_upload(request, path[len("/upload/"):])
        return Response("not found\n", 404, mimetype="text/plain")

    # --- the session cookie -------------------------------------------------------------------

    def load_state(self, request):
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            state = self.signer.loads(raw, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return state if isinstance(state, dict) and "d" in state else None

    def reply(self, body, state, status=200):
        response = Response(body, status, content_type=TEXT_XML if body else None)
        if state is not None:
            response.set_cookie(COOKIE, self.signer.dumps(state), httponly=True,
                                max_age=SESSION_SECONDS, path="/acs",
                                secure=self.config.get("CWMP_COOKIE_SECURE", False))
        return response

    def end(self):
        response = Response(status=204)
        response.delete_cookie(COOKIE, path="/acs")
        return response

    # --- POST /acs ----------------------------------------------------------------------------

    def read_body(self, request):
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        data = request.stream.read(self.max_body + 1)
        return None if len(data) > self.max_body else data

    def cwmp(self, request):
        data = self.read_body(request)
        if data is None:
            return Response("envelope too large\n", 413, {"Connection": "close"},
                            mimetype="text/plain")
        state = self.load_state(request)
        try:
            message = soap.parse(data)
        except soap.CwmpError as exc:
            return Response(f"{exc}\n", 400, mimetype="text/plain")
        if message is None:
            return self.next_for(request, state) if state else self.end()
        try:
            if message.name == "Inform":
                return self.inform(request, message)
            if message.name == "GetRPCMethods":
                return self.reply(soap.get_rpc_methods_response(message.ns, message.cwmp_id),
                                  state)
            if state is None:
                return self.reply(soap.fault(message.ns, message.cwmp_id, 8003,
                                             "no session: start with Inform"), None, 400)
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
        mac = inventory.mac_of(inform)
        with self.fast.connect() as conn:
            try:
                row, enterprise_id, first = inventory.authenticate(
                    conn, mac, request.headers.get("Authorization"), self.secret)
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
                        device_id = inventory.bind_device(session, mac, enterprise_id)
                    except QuotaExceeded as exc:
                        return self.refuse(403, str(exc))
                    except inventory.Refused as exc:
                        return self.refuse(exc.status, exc.reason)
                row = conn.execute(inventory.LOOKUP, {"mac": mac}).first()
            root, need_metrics = inventory.record_inform(conn, row, device_id, inform,
                                                         request.remote_addr)
        work = fault_events.on_inform(self, row, device_id, inform) or row.has_work
        codes = inform.event_codes
        if work or row.cr_username is None or "0 BOOTSTRAP" in codes:
            with self.orm() as session:
                if row.cr_username is None or "0 BOOTSTRAP" in codes:
                    device = session.get(Device, device_id)
                    device.data_model = root
                    rpc.queue_setup(session, device, self.config["DEVICE_PERIODIC_INTERVAL"])
                    work = True
                if rpc.on_inform_events(session, device_id, inform):
                    work = True
                session.commit()
        state = {"d": device_id, "n": message.ns, "r": root, "w": bool(work),
                 "m": need_metrics, "c": None, "p": None}
        return self.reply(soap.inform_response(message.ns, message.cwmp_id), state)

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
        """The session's next RPC after an empty POST or an answer, or 204 to end it."""
        if state.get("m"):
            state["m"], state["p"], state["c"] = False, "metrics", None
            return self.reply(soap.get_parameter_values(
                state["n"], "metrics", list(inventory.metric_names(state["r"]))), state)
        if state.get("w"):
            with self.orm() as session:
                body = rpc.next_rpc(session, state, self.base_url(request))
            if body is not None:
                return self.reply(body, state)
            state["w"] = False
        return self.end()

    def answer(self, request, state, message):
        if state.get("p") == "metrics":
            state["p"] = None
            if message.name == "GetParameterValuesResponse":
                with self.fast.connect() as conn:
                    inventory.record_metrics(conn, state["d"], soap.parameter_values(
                        message.body), state["r"])
            return self.next_for(request, state)
        with self.orm() as session:
            follow_up = rpc.handle_answer(session, state, message)
        if follow_up is not None:
            return self.reply(follow_up, state)
        return self.next_for(request, state)

    # --- PUT /acs/upload/<token> --------------------------------------------------------------

    def receive_upload(self, request, token):
        """The one-time URL of an Upload command: the first complete PUT is kept, any other
        (a replay, a wrong token, too big) gets a 4xx and stores nothing."""
        if not token or len(token) > 64:
            return Response("not found\n", 404, mimetype="text/plain")
        digest = hashlib.sha256(token.encode()).hexdigest()
        limit = self.config["UPLOAD_MAX_BYTES"]
        with self.orm() as session:
            command = session.execute(select(DeviceCommand).where(
                DeviceCommand.upload_token == digest, DeviceCommand.kind == "upload",
                DeviceCommand.status.in_((CommandStatus.sent, CommandStatus.waiting)),
                DeviceCommand.file_name.is_(None))).scalar_one_or_none()
            if command is None:
                return Response("not found\n", 404, mimetype="text/plain")
            if request.content_length is not None and request.content_length > limit:
                return Response("file too large\n", 413, {"Connection": "close"},
                                mimetype="text/plain")
            folder = os.path.join(self.config.get("FILE_STORE_DIR")
                                  or os.path.join(self.instance_path, "files"), "uploads")
            os.makedirs(folder, exist_ok=True)
            suffix = UPLOAD_SUFFIX.get(rpc.arguments_of(command).get("file_type"), ".bin")
            name = f"device{command.device_id}-cmd{command.id}-{secrets.token_hex(4)}{suffix}"
            path = os.path.join(folder, name)
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
            os.replace(path + ".part", path)
            session.commit()
        return Response(status=204)
