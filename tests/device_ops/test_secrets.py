"""The secrets the ACS hands devices (its own, per-device, connection-request passwords)."""

from app.device_ops import auth


def test_device_secrets_never_start_with_a_dash():
    # A secret starting with '-' reads as an option on a command line (one in 64 did).
    made = [auth.new_secret() for _ in range(3000)]
    assert not [secret for secret in made if secret.startswith("-")]
    assert len(set(made)) == len(made)
