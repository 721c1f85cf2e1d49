"""What a simulated phone does for a Download or Upload the ACS asked for: the HTTP transfer
after the session, its TransferComplete record, and a firmware "install"."""

import re
from urllib.parse import urlsplit

import requests

from app.device_ops.simulator import vendor
from app.device_ops.simulator.auth import transfer_auth
from app.device_ops.simulator.model import config_file, log_file, now_iso


def _http_session():
    http = requests.Session()
    http.trust_env = False
    return http


def _short(exc):
    return f"network error: {type(exc).__name__}"


def transfer(phone, t):
    """Do one Download/Upload; queue its TransferComplete; True on success."""
    start = now_iso()
    code, message = 0, ""
    http = _http_session()
    if t["kind"] == "download" and phone.quirks.ignore_download_credentials:
        t = dict(t, username="", password="")
    try:
        if t["kind"] == "download":
            status, size = _http_transfer(phone, http, "GET", t)
            phone.downloads.append((t["url"], status, size))
            if 200 <= status < 300 and t["type"].startswith("1 "):
                _install_firmware(phone, t["url"])
        else:
            data = vendor.upload_data(phone.model, t["type"]) or (
                log_file(phone.model) if "Log" in t["type"] else config_file(phone.model))
            status, _ = _http_transfer(phone, http, "PUT", t, data)
            phone.uploads.append((t["url"], status, len(data)))
        if not 200 <= status < 300:
            code = 9012 if status in (401, 403) else (9010 if t["kind"] == "download" else 9011)
            message = f"HTTP {status} from the file server"
    except requests.RequestException as exc:
        (phone.downloads if t["kind"] == "download" else phone.uploads).append((t["url"], 0, 0))
        code = 9010 if t["kind"] == "download" else 9011
        message = _short(exc)
    finally:
        http.close()
    with phone._state:
        phone._transfer_completes.append({"key": t["key"], "code": code, "message": message,
                                         "start": start, "complete": now_iso()})
    return code == 0


def _http_transfer(phone, http, method, t, data=None):
    def send():
        return http.request(method, t["url"], data=data, timeout=phone.timeout,
                            stream=method == "GET", headers={"Content-Type": "text/plain"}
                            if data is not None else None)

    resp = send()
    if resp.status_code == 401 and t["username"] and transfer_auth(
            http, resp, t["username"], t["password"]):
        resp.close()
        resp = send()
    size = sum(len(chunk) for chunk in resp.iter_content(65536)) if method == "GET" else 0
    resp.close()
    return resp.status_code, size


def _install_firmware(phone, url):
    """The version in the image's name if any (T54W-96.86.0.80.rom), else the next build."""
    found = re.findall(r"\d+\.\d+\.\d+\.\d+", urlsplit(url).path.rsplit("/", 1)[-1])
    current = phone.value("DeviceInfo.SoftwareVersion")
    if found:
        new = found[-1]
    else:
        parts = current.split(".")
        new = ".".join(parts[:-1] + [str(int(parts[-1]) + 1)]) if parts[-1].isdigit() else (
            current + ".1")
    phone.model.set_local("DeviceInfo.SoftwareVersion", new)
