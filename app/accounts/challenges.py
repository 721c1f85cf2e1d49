"""Captcha challenges for the public forms, generated locally with the `captcha` library.

A challenge is a signed, timestamped nonce carried by the form itself; its answer is derived
from the nonce with the app's secret, so showing the picture changes nothing on the server
(and no session-cookie race between the page and its image can lose it). Answering records
the nonce, so each challenge gets exactly one try.
"""

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.models import CaptchaUse, utcnow

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I look-alikes
LENGTH = 5
MAX_AGE_SECONDS = 600


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt="ymcs-captcha")


def new_challenge(secret_key):
    return _serializer(secret_key).dumps(secrets.token_hex(8))


def _nonce(secret_key, challenge):
    """The nonce of a genuine, unexpired challenge, else None."""
    if not challenge or len(challenge) > 200:
        return None
    try:
        return _serializer(secret_key).loads(challenge, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None


def answer_for(secret_key, challenge):
    nonce = _nonce(secret_key, challenge)
    if nonce is None:
        return None
    digest = hmac.new(secret_key.encode(), nonce.encode(), hashlib.sha256).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:LENGTH])


def picture(secret_key, challenge):
    """PNG bytes of the challenge's answer, or None for a forged or expired challenge."""
    from captcha.image import ImageCaptcha

    answer = answer_for(secret_key, challenge)
    if answer is None:
        return None
    return ImageCaptcha(width=180, height=60).generate(answer).getvalue()


def check_answer(session, secret_key, challenge, given):
    """Whether `given` answers `challenge`; either way the challenge is spent. Commits."""
    answer = answer_for(secret_key, challenge)
    if answer is None:
        return False
    session.add(CaptchaUse(nonce=_nonce(secret_key, challenge), used_on=utcnow()))
    try:
        session.commit()
    except IntegrityError:  # answered before: a replay
        session.rollback()
        return False
    return hmac.compare_digest(answer, (given or "").strip().upper())


def prune_spent(session, now=None):
    """Spent challenges older than their lifetime can no longer be replayed anyway."""
    import datetime

    cutoff = (now or utcnow()) - datetime.timedelta(seconds=MAX_AGE_SECONDS * 2)
    session.execute(delete(CaptchaUse).where(CaptchaUse.used_on < cutoff))
    session.commit()
