"""The one clock: naive UTC datetimes, as every DateTime column stores them."""

import datetime


def utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
