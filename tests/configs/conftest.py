import uuid

import pytest

from app.extensions import db

from ..conftest import ids_of
from ..tree import build_tree


@pytest.fixture(scope="module")
def mtree(app):
    """One tenant tree per module, for tests that add templates and pushes but change no
    tenant (a tree costs seconds: its accounts' password hashes)."""
    with app.app_context():
        return ids_of(build_tree(db.session, f"m{uuid.uuid4().hex[:6]}"))
