"""Make the embedded default's SECRET_KEY once: `python -m app.core.secret_key` (scripts/run.sh).

The key is written to SECRET_KEY_FILE (default instance/secret_key, which git ignores), readable
by its owner only, and kept across runs: a new key would sign everyone out. config.py reads it
whenever the SECRET_KEY variable is unset.
"""

import os
import secrets
import stat
import sys


def ensure_key_file(path):
    """Write a random key to path unless it already holds one; True when one was written."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        if os.path.getsize(path) > 0:
            if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                os.chmod(path, 0o600)  # a copied or restored file may have lost its mode
            return False
        os.remove(path)  # empty: an earlier run stopped between creating and writing it
    except FileNotFoundError:
        pass
    # O_EXCL: never overwrite a key another process has just written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as key_file:
        key_file.write(secrets.token_hex(32) + "\n")
    return True


def main():
    import config

    path = config.SECRET_KEY_FILE
    made = ensure_key_file(path)
    print(f"{'made a new' if made else 'kept the'} SECRET_KEY in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
