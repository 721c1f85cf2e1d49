"""What a device may upload for each kind of file: the largest size, and what its first bytes
must be (checked by magic numbers, never by a name or Content-Type the device sends). The
stored name and the download's name and type are ours, from the kind.

Used by the ACS when a device PUTs a file (cwmp.receive_upload) and by the diagnostic page
when people download it.
"""

from app.device_ops import vendor_map

MB = 1024 * 1024
PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1",  # libpcap, both byte orders
               b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1",  # libpcap, nanosecond timestamps
               b"\x0a\x0d\x0d\x0a")  # pcapng section header block
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


def is_text(head):
    """Plain text: no NUL byte and decodable as UTF-8 (a cut multi-byte character at the end
    of the sample is allowed)."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3
    return True


def is_pcap(head):
    return head[:4] in PCAP_MAGICS


def is_png(head):
    return head.startswith(PNG_MAGIC)


def is_wav(head):
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def is_zip(head):
    return head.startswith(ZIP_MAGIC)


# kind -> (size limit, [(check, suffix, MIME type)]): the first check that passes names it.
_TEXT = (is_text, ".txt", "text/plain; charset=utf-8")
KINDS = {
    "config_all": (5 * MB, [(is_text, ".cfg", "text/plain; charset=utf-8")]),
    "config_static": (5 * MB, [(is_text, ".cfg", "text/plain; charset=utf-8")]),
    "config_non_static": (5 * MB, [(is_text, ".cfg", "text/plain; charset=utf-8")]),
    # A bin backup is the firmware's own format: size-limited, its bytes not inspected.
    "config_bin": (20 * MB, [(lambda head: True, ".bin", "application/octet-stream")]),
    "syslog": (20 * MB, [(is_text, ".log", "text/plain; charset=utf-8"),
                         (is_zip, ".zip", "application/zip")]),
    "capture": (100 * MB, [(is_pcap, ".pcap", "application/vnd.tcpdump.pcap")]),
    "screenshot": (10 * MB, [(is_png, ".png", "image/png")]),
    "recording": (50 * MB, [(is_wav, ".wav", "audio/wav")]),
    "backup_log": (20 * MB, [(is_text, ".log", "text/plain; charset=utf-8"),
                             (is_zip, ".zip", "application/zip")]),
}
HEAD_BYTES = 4096  # what the checks look at


def kind_of(file_type):
    """Our kind of an Upload file type (None: not one we ask for)."""
    kind = vendor_map.file_kind(file_type)
    return kind if kind in KINDS else None


def limit_of(file_type, overall):
    """The size limit for an upload of ``file_type``: its kind's, never past ``overall``."""
    kind = kind_of(file_type)
    return min(overall, KINDS[kind][0]) if kind else overall


def recognise(file_type, head):
    """(suffix, MIME type) of a file of ``file_type`` whose first bytes are ``head``, or None
    when they are not what that kind of file begins with."""
    kind = kind_of(file_type)
    if kind is None:
        return (".bin", "application/octet-stream")
    for check, suffix, mime in KINDS[kind][1]:
        if head and check(head):
            return suffix, mime
    return None


def mime_of_name(stored_name):
    """The MIME type of a stored file, from the suffix we gave it."""
    suffix = "." + stored_name.rsplit(".", 1)[-1] if "." in stored_name else ""
    for _limit, checks in KINDS.values():
        for _check, known, mime in checks:
            if known == suffix:
                return mime
    return "application/octet-stream"
