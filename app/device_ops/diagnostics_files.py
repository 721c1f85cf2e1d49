"""Files of the diagnostic page: the daily log data backup (spec ch. 6 "Enabling the Log Data
Backup": a backup a day, the last 7 days kept), reading uploaded files from the one file store,
several of them as one zip streamed as it is written, and the diagnosis assistance mail.
"""

import datetime
import hashlib
import json
import os
import zipfile

from sqlalchemy import select

from app.core.mail import enqueue_mail
from app.device_ops import commands, device_files, vendor_map
from app.device_ops.diagnostics_models import DeviceDiagnostics, DiagnosisRequest
from app.models import CommandStatus, Device, DeviceCommand, Enterprise, OutboxMessage, utcnow

BACKUP_DAYS = 7  # the spec: "only save the log generated in the past 7 days"
BACKUP_EVERY = datetime.timedelta(hours=20)  # a day's backup, whenever the job runs that day
BATCH = 500


def upload_arguments(kind):
    """The stored arguments of an Upload of file kind ``kind`` (as queue_command writes them)."""
    return json.dumps(commands.clean_arguments("upload",
                                               {"file_type": vendor_map.file_type(kind)}))


def queue_daily_backups(session, now=None, by=None):
    """Ask each device with log data backup on for its log, once a day (a device that was
    asked in the last 20 hours is skipped: safe to run as often as wanted). Returns how many
    were queued; they run at each device's next contact."""
    now = now or utcnow()
    arguments = upload_arguments("backup_log")
    recent = select(DeviceCommand.device_id).where(
        DeviceCommand.kind == "upload", DeviceCommand.arguments == arguments,
        DeviceCommand.created_on > now - BACKUP_EVERY)
    queued, after = 0, 0
    while True:
        devices = session.execute(
            select(Device).join(DeviceDiagnostics, DeviceDiagnostics.device_id == Device.id)
            .join(Enterprise, Enterprise.id == Device.enterprise_id)
            .where(DeviceDiagnostics.log_backup.is_(True), Device.id > after,
                   Device.id.not_in(recent))
            .order_by(Device.id).limit(BATCH)).scalars().all()
        if not devices:
            return queued
        for device in devices:
            after = device.id
            if commands.commands_allowed(device.enterprise):
                commands.queue_command(session, device, "upload",
                                       {"file_type": vendor_map.file_type("backup_log")}, by=by)
                queued += 1
        session.commit()


def prune_backups(session, now=None, days=BACKUP_DAYS):
    """Backup logs older than ``days`` go, their commands with them. Returns the stored file
    names for the caller to delete."""
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    arguments = upload_arguments("backup_log")
    files = []
    while True:
        rows = session.execute(select(DeviceCommand).where(
            DeviceCommand.kind == "upload", DeviceCommand.arguments == arguments,
            DeviceCommand.status.in_((CommandStatus.done, CommandStatus.failed)),
            DeviceCommand.created_on < cutoff).limit(BATCH)).scalars().all()
        if not rows:
            return files
        for row in rows:
            if row.file_name:
                files.append(row.file_name)
            session.delete(row)
        session.commit()


def backup_logs_job():
    """The scheduler's daily log data backup: ask, then drop what is past 7 days."""
    from app.device_ops.inventory import delete_stored_files
    from app.exports.jobs import file_store_dir  # the one file store of exports and uploads
    from app.extensions import db

    queue_daily_backups(db.session)
    delete_stored_files(file_store_dir(), prune_backups(db.session))


# --- files in the store -----------------------------------------------------------------------

def stored_path(store_dir, command):
    """The uploaded file of ``command`` in the store, or None (never a path outside it)."""
    if not command.file_name:
        return None
    root = os.path.realpath(store_dir)
    path = os.path.realpath(os.path.join(root, command.file_name))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def download_name(device, command, path):
    """Our name for a device's file: its MAC (or id), the kind and the command, the suffix
    the ACS gave it by its magic bytes - nothing the device chose."""
    kind = vendor_map.file_kind(json.loads(command.arguments or "{}").get("file_type")) or "file"
    stamp = (command.finished_on or command.created_on).strftime("%Y%m%d-%H%M%S")
    suffix = os.path.splitext(path)[1][:8]
    return f"{device.mac or f'device{device.id}'}-{kind}-{stamp}-{command.id}{suffix}"


def mime_of(path):
    return device_files.mime_of_name(os.path.basename(path))


class _Sink:
    """A write-only stream whose bytes are taken out as the zip is written (zipfile writes
    to unseekable streams with data descriptors)."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data, self.chunks = b"".join(self.chunks), []
        return data


def stream_zip(entries, chunk=64 * 1024):
    """Yield a zip of ``entries`` [(path, name in the zip)] as it is written: memory stays at
    a chunk or so whatever the files' sizes."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, name in entries:
            with open(path, "rb") as source, archive.open(name, "w") as target:
                while True:
                    data = source.read(chunk)
                    if not data:
                        break
                    target.write(data)
                    out = sink.take()
                    if out:
                        yield out
            out = sink.take()
            if out:
                yield out
    yield sink.take()


# --- diagnosis assistance ---------------------------------------------------------------------

LATEST_FILES = 10
TEXT_EXCERPT = 16 * 1024  # of the latest text file (a system log), in the mail


def latest_files(session, device, store_dir, limit=LATEST_FILES):
    """[(command, path)] of the device's latest uploaded files still in the store."""
    rows = session.execute(select(DeviceCommand).where(
        DeviceCommand.device_id == device.id, DeviceCommand.kind == "upload",
        DeviceCommand.status == CommandStatus.done, DeviceCommand.file_name.is_not(None))
        .order_by(DeviceCommand.id.desc()).limit(limit)).scalars().all()
    return [(c, p) for c in rows if (p := stored_path(store_dir, c))]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def assistance_body(device, description, sender, files, labels):
    """The plain-text mail to the vendor's support: the problem, the device's identity, its
    latest files (name, size, SHA-256) and an excerpt of the latest text file. ``labels``:
    translated headings."""
    lines = [description.strip(), "", f"-- {labels['device']} --"]
    for label, value in (("MAC", device.mac), ("Device ID", device.cpe_key),
                         ("Model", device.model), ("Firmware", device.firmware),
                         ("Serial", device.serial), ("IP", device.ip),
                         ("OUI", device.oui), ("Data model", device.data_model),
                         ("Enterprise", device.enterprise.name if device.enterprise else ""),
                         ("Online", "yes" if device.online else "no"),
                         ("Last seen", device.last_seen.isoformat() if device.last_seen
                          else ""), ("Reported by", sender)):
        lines.append(f"{label}: {value or '-'}")
    lines += ["", f"-- {labels['files']} --"]
    excerpt = None
    for command, path in files:
        name = download_name(device, command, path)
        lines.append(f"{name}  {os.path.getsize(path)} bytes  sha256 {_sha256(path)}")
        if excerpt is None and device_files.mime_of_name(path).startswith("text/"):
            with open(path, "rb") as source:
                excerpt = (name, source.read(TEXT_EXCERPT).decode("utf-8", "replace"))
    if not files:
        lines.append("-")
    if excerpt:
        lines += ["", f"-- {excerpt[0]} --", excerpt[1]]
    return "\n".join(lines) + "\n"


ATTACHED_BYTES = 10 * 1024 * 1024  # the latest files attached up to this much in all


def assistance_attachments(device, files, limit=ATTACHED_BYTES):
    """The latest files as mail attachments, newest first, while they fit in ``limit`` (the
    others stay listed in the body): (our name, type by magic bytes, content)."""
    attached, total = [], 0
    for command, path in files:
        size = os.path.getsize(path)
        if total + size > limit:
            continue
        with open(path, "rb") as source:
            attached.append((download_name(device, command, path),
                             device_files.mime_of_name(path), source.read()))
        total += size
    return attached


def send_assistance(session, device, description, recipient, sender, store_dir, labels):
    """Queue the assistance mail, with the latest files attached, in the outbox and record
    it; the caller commits."""
    files = latest_files(session, device, store_dir)
    subject = f"{labels['subject']}: {device.model or '?'} {device.mac or device.cpe_key or ''}"
    message = enqueue_mail(session, recipient, subject.strip()[:200],
                           assistance_body(device, description, sender, files, labels),
                           attachments=assistance_attachments(device, files))
    session.flush()
    request = DiagnosisRequest(device_id=device.id, outbox_id=message.id, recipient=recipient,
                               description=description, created_by=sender)
    session.add(request)
    session.flush()
    return request


def assistance_history(session, device, limit=5):
    """[(request, outbox status or None)] newest first."""
    return session.execute(
        select(DiagnosisRequest, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == DiagnosisRequest.outbox_id)
        .where(DiagnosisRequest.device_id == device.id)
        .order_by(DiagnosisRequest.id.desc()).limit(limit)).all()
