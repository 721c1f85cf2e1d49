"""No portal runs with a known or guessable SECRET_KEY, in any mode; scripts/run.sh makes a
random one on its first run and keeps it (security review, point 2)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import make_app

ROOT = Path(__file__).resolve().parents[2]  # the checkout


@pytest.mark.parametrize("mode", ["development", "production"])
@pytest.mark.parametrize("key", ["dev-only-change-me", "", None, "short-but-not-empty",
                                 "x" * 31])
def test_a_known_empty_or_short_key_is_refused_in_every_mode(database_url, mode, key):
    with pytest.raises(RuntimeError) as refused:
        make_app(database_url, YMCS_ENV=mode, SECRET_KEY=key)
    # The operator is told what to run.
    assert "SECRET_KEY" in str(refused.value)
    assert "secrets.token_hex(32)" in str(refused.value)
    assert "python -m app.core.secret_key" in str(refused.value)


def _env(instance_dir, **extra):
    """The environment of a fresh shell on a fresh checkout: no SECRET_KEY of the caller's."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "YMCS_ENV",
                          "PUBLIC_URL", "TRUSTED_HOSTS")}
    env.update(YMCS_INSTANCE_DIR=str(instance_dir), SCHEDULER_MODE="off", **extra)
    return env


def _ensure_secret_key(env):
    """The step scripts/run.sh runs before anything builds the app."""
    return subprocess.run(["bash", "-c", "source scripts/install.sh && ensure_secret_key"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_without_a_key_the_app_refuses_to_start_and_says_how(tmp_path):
    done = _flask(_env(tmp_path), "db", "upgrade")
    assert done.returncode != 0
    assert "python -m app.core.secret_key" in done.stderr
    assert str(tmp_path / "secret_key") in done.stderr
    assert not (tmp_path / "ymcs.db").exists()  # refused before touching the database


def test_run_sh_makes_a_private_key_once_and_keeps_it(tmp_path):
    env = _env(tmp_path)
    made = _ensure_secret_key(env)
    assert made.returncode == 0, made.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # not readable by anyone else

    # The next run keeps it (a new key would sign everyone out) and tightens a loose mode.
    key_file.chmod(0o644)
    again = _ensure_secret_key(env)
    assert again.returncode == 0, again.stderr
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    # Another checkout gets another key.
    other = tmp_path / "other"
    assert _ensure_secret_key(_env(other)).returncode == 0
    assert (other / "secret_key").read_text().strip() != key

    # What run.sh runs next builds the app with that key.
    upgraded = _flask(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    shown = subprocess.run(
        [sys.executable, "-c", "from app import create_app; print(create_app().secret_key)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert shown.stdout.strip().splitlines()[-1] == key, shown.stderr[-2000:]


def test_an_operators_key_is_used_and_no_file_is_made(tmp_path):
    env = _env(tmp_path, SECRET_KEY="operator-key-" + "k" * 40)
    assert _ensure_secret_key(env).returncode == 0
    assert not (tmp_path / "secret_key").exists()
    shown = subprocess.run(
        [sys.executable, "-c", "from app import create_app; print(create_app().secret_key)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert shown.stdout.strip().splitlines()[-1] == "operator-key-" + "k" * 40, shown.stderr
