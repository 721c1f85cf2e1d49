"""The export tests' tree and enterprise (tests/exports/test_exports.py, test_reader.py)."""

import uuid
from types import SimpleNamespace

import pytest

from app.core.scope import Principal
from app.extensions import db
from app.models import AccountKind, Enterprise

from ..conftest import ids_of
from ..tree import build_tree


@pytest.fixture(scope="module")
def mtree(app):
    """A module's own tree: tests add enterprises to it, never to the shared one."""
    with app.app_context():
        return ids_of(build_tree(db.session, f"x{uuid.uuid4().hex[:6]}"))


@pytest.fixture
def shop(app, db_session, mtree):
    """A new enterprise under the module tree's C, and the principal of C's admin working
    inside it (act-as): its exports see this enterprise's orders and nothing else."""
    name = f"Shop {uuid.uuid4().hex[:8]}"
    enterprise = Enterprise(name=name, channel_id=mtree.C)
    db_session.add(enterprise)
    db_session.commit()
    return SimpleNamespace(
        id=enterprise.id, name=name, channel_id=mtree.C, account_id=mtree.c,
        principal=Principal(mtree.c, AccountKind.enterprise, enterprise_id=enterprise.id))
