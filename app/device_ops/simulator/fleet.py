"""A TR-069 phone fleet simulator: Fleet runs many SimulatedPhones (sim_phone.py) with periodic
Informs and connection requests, served by a small HTTP listener; plus the command line.

Deliberately lean (stdlib, requests, defusedxml; no Flask, no database) so it starts fast in
tests, benchmarks and the demo. Threads, not asyncio: one scheduler thread and a small worker
pool per Fleet, short-lived threads for follow-up sessions.

    python -m app.device_ops.simulator --acs-url http://127.0.0.1:8080/acs --count 20
"""

import argparse
import base64
import heapq
import itertools
import random
import re
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from app.device_ops.simulator import quirks as sim_quirks
from app.device_ops.simulator.auth import DigestGuard
from app.device_ops.simulator.model import Param
from app.device_ops.simulator.phone import SessionLog, SimulatedPhone
from app.device_ops.simulator.soap import DEFAULT_NS

__all__ = ["DigestGuard", "Fleet", "Param", "SessionLog", "SimulatedPhone",
           "serve_connection_requests"]


# --- connection requests --------------------------------------------------------------------------


class _CrHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the ACS answers the challenge on the same socket
    server_version = "Yealink-CR/1.0"

    def do_GET(self):
        match = re.fullmatch(r"/cr/([0-9a-fA-F]{12})", urlsplit(self.path).path)
        phone = self.server.phones.get(match.group(1).lower()) if match else None
        if phone is None:
            return self._reply(404)
        params, name = phone.model.params, phone.model.name
        with phone.model.lock:
            user = params[name("ManagementServer.ConnectionRequestUsername")].value
            password = params[name("ManagementServer.ConnectionRequestPassword")].value
        # TR-069 requires Digest; with no credentials configured there is nothing to check
        # against, so an unconfigured phone (as shipped) accepts any request.
        guard = self.server.guard
        if phone.quirks.cr_basic:  # a device that takes Basic only (quirks.py)
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if (user or password) and self.headers.get("Authorization") != expected:
                return self._reply(401, {"WWW-Authenticate": 'Basic realm="Yealink"'})
        elif (user or password) and not guard.check(self.headers.get("Authorization"), "GET",
                                                    self.path, user, password):
            return self._reply(401, {"WWW-Authenticate": guard.challenge()})
        # Counted as busy before the 200 goes out (it never waits: the session runs in its
        # own thread), so whoever woke the phone and then waits for it idle waits for it.
        phone.connection_request()
        self._reply(200)

    def _reply(self, status, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # quiet: a fleet gets many
        pass


class ConnectionRequestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host="127.0.0.1", port=0, advertise_host=None):
        super().__init__((host, port), _CrHandler)
        self.phones, self.guard = {}, DigestGuard()
        self.host = advertise_host or (host if host not in ("", "0.0.0.0", "::") else "127.0.0.1")
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="cwmp-cr", daemon=True)
        self._thread.start()

    def url_for(self, mac):
        return f"http://{self.host}:{self.port}/cr/{mac}"

    def add(self, phone):
        self.phones[phone.mac] = phone
        phone._cr_url = self.url_for(phone.mac)
        phone.set_connection_request_url(phone._cr_url)

    def shutdown(self):
        if self._thread.is_alive():
            super().shutdown()
            self.server_close()


def serve_connection_requests(phones, host="127.0.0.1", port=0, advertise_host=None):
    """Listen for connection requests (GET /cr/<mac>) for these phones; sets each phone's
    ConnectionRequestURL. The server has .port, .url_for(mac), .add(phone), .shutdown()."""
    server = ConnectionRequestServer(host, port, advertise_host)
    for phone in [phones] if isinstance(phones, SimulatedPhone) else phones:
        server.add(phone)
    return server


# --- the fleet ------------------------------------------------------------------------------------


class Fleet:
    def __init__(self, acs_url, count, *, mac_prefix="001565", start_index=1, username=None,
                 password=None, auth="basic", namespace=DEFAULT_NS, data_model="Device",
                 periodic_interval=900, jitter=True, cr_host="127.0.0.1", cr_port=0,
                 cr_advertise_host=None, model="SIP-T54W", firmware="96.86.0.70", workers=8,
                 timeout=10, quirks=None):
        if not re.fullmatch(r"[0-9a-fA-F]{6}", mac_prefix):
            raise ValueError("mac_prefix must be 6 hex digits")
        self.phones = [
            SimulatedPhone(acs_url, f"{mac_prefix.lower()}{i:06x}", username=username,
                           password=password, auth=auth, namespace=namespace,
                           data_model=data_model, model=model, firmware=firmware,
                           periodic_interval=periodic_interval, timeout=timeout,
                           quirks=quirks)
            for i in range(start_index, start_index + count)]
        self.jitter, self.workers = jitter, workers
        self.cr_host, self.cr_port, self.cr_advertise_host = cr_host, cr_port, cr_advertise_host
        self.server = None
        self._heap, self._gen = [], {}
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._thread = self._pool = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def listen(self):
        """Only the connection-request listener (start() calls it)."""
        if self.server is None:
            self.server = serve_connection_requests(self.phones, self.cr_host, self.cr_port,
                                                    self.cr_advertise_host)
            self.cr_port = self.server.port
        return self.server

    def start(self):
        if self._thread is not None:
            return
        self.listen()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cwmp-sim")
        spread = min(3.0, 0.1 * len(self.phones)) if self.jitter else 0.0
        now = time.monotonic()
        with self._cond:
            for i, phone in enumerate(self.phones):
                phone._on_schedule_change = lambda i=i: self._schedule(i, None)
                self._schedule(i, now + random.uniform(0, spread))
        self._thread = threading.Thread(target=self._loop, name="cwmp-scheduler", daemon=True)
        self._thread.start()

    def run_once(self, timeout=60):
        """One BOOTSTRAP session per phone (plus the follow-ups the ACS causes); True if none
        failed. For the CLI's --once and benchmarks; no periodic Informs."""
        self.listen()
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(lambda p: p.run_session(), self.phones))
        deadline = time.monotonic() + timeout
        for phone in self.phones:
            phone.wait_idle(max(0.0, deadline - time.monotonic()))
        return all(log.ok for phone in self.phones for log in phone.sessions)

    def stop(self):
        with self._cond:
            if self._stopped:
                return
            self._stopped = True
            self._cond.notify_all()
        for phone in self.phones:
            phone.close()
        if self._thread is not None:
            self._thread.join(5)
        if self.server is not None:
            self.server.shutdown()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _schedule(self, i, due):
        """(Re)plan phone i; a newer entry makes older heap entries for it stale."""
        with self._cond:
            if self._stopped:
                return
            if due is None:
                due = time.monotonic() + self.phones[i].next_inform_delay()
            self._gen[i] = gen = next(self._seq)
            heapq.heappush(self._heap, (due, gen, i))
            self._cond.notify()

    def _loop(self):
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, gen, i = self._heap[0]
                if self._gen.get(i) != gen:
                    heapq.heappop(self._heap)
                    continue
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._gen[i] = None  # running: no entry until the tick reschedules
                self._pool.submit(self._tick, i)

    def _tick(self, i):
        phone = self.phones[i]
        try:
            if phone.value("ManagementServer.PeriodicInformEnable") == "1":
                phone._periodic()
        except Exception as exc:  # the scheduler must outlive any one phone
            sys.stderr.write(f"{phone.mac}: periodic session failed: {exc!r}\n")
        finally:
            with self._cond:
                if self._gen.get(i) is None:  # not re-planned meanwhile (interval change)
                    self._schedule(i, None)


# --- CLI ------------------------------------------------------------------------------------------


def _report_failure(phone, log):
    if log.error:  # one write per line: sessions end on many threads at once
        sys.stderr.write(f"{phone.mac}: session [{', '.join(log.events)}] failed: {log.error}\n")
        sys.stderr.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m app.device_ops.simulator",
                                 description="Simulated Yealink phones speaking TR-069 to an ACS.")
    ap.add_argument("--acs-url", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--auth", choices=("basic", "digest"), default="basic")
    ap.add_argument("--mac-prefix", default="001565")
    ap.add_argument("--start-index", type=int, default=1)
    ap.add_argument("--periodic-interval", type=int, default=900)
    ap.add_argument("--namespace", default="cwmp-1-2", help="cwmp-1-0 ... cwmp-1-4 or a full URN")
    ap.add_argument("--data-model", choices=("Device", "InternetGatewayDevice"), default="Device")
    ap.add_argument("--model", default="SIP-T54W")
    ap.add_argument("--firmware", default="96.86.0.70")
    ap.add_argument("--cr-host", default="127.0.0.1")
    ap.add_argument("--cr-port", type=int, default=0)
    ap.add_argument("--cr-advertise-host", help="host put in ConnectionRequestURL")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=10)
    sim_quirks.add_argument(ap)
    ap.add_argument("--once", action="store_true",
                    help="one BOOTSTRAP session per phone, then exit (1 if any failed)")
    args = ap.parse_args(argv)
    fleet = Fleet(args.acs_url, args.count, mac_prefix=args.mac_prefix,
                  start_index=args.start_index, username=args.username, password=args.password,
                  auth=args.auth, namespace=args.namespace, data_model=args.data_model,
                  periodic_interval=args.periodic_interval, cr_host=args.cr_host,
                  cr_port=args.cr_port, cr_advertise_host=args.cr_advertise_host,
                  model=args.model, firmware=args.firmware, workers=args.workers,
                  timeout=args.timeout, quirks=sim_quirks.from_names(args.quirk))
    for phone in fleet.phones:
        phone.on_session_end = _report_failure
    if args.once:
        try:
            return 0 if fleet.run_once() else 1
        except KeyboardInterrupt:
            return 130
        finally:
            fleet.stop()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    fleet.start()
    print(f"{args.count} simulated phones -> {args.acs_url}; connection requests on "
          f"{fleet.server.host}:{fleet.cr_port}", flush=True)
    while not done.wait(0.5):
        pass
    fleet.stop()
    return 0


