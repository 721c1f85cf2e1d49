"""The migrations are the only way the schema changes: on an empty database they must build
exactly what the models declare (on SQLite, and on MariaDB in the MariaDB run), and going
down to nothing and up again must work."""

import flask_migrate
import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_appbuilder import Model

import app.models  # noqa: F401  (registers the tables on Model.metadata)
from app.extensions import db

from .conftest import create_test_database, make_app


@pytest.fixture
def empty_app(tmp_path):
    url, drop = create_test_database(tmp_path)
    app = make_app(url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def schema_differences(app):
    """What `flask db migrate` would generate now: [] when the schema matches the models."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Model.metadata)


def table_names(app):
    with app.app_context():
        return set(sqlalchemy.inspect(db.engine).get_table_names())


def heads(app):
    with app.app_context():
        config = current_migrate_config()
        return ScriptDirectory.from_config(config).get_heads()


def current_migrate_config():
    from flask import current_app

    return current_app.extensions["migrate"].migrate.get_config()


def current_revision(app):
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_one_head(empty_app):
    # Two heads (two people adding a migration on the same parent) break `db upgrade`.
    assert len(heads(empty_app)) == 1, f"several migration heads: {heads(empty_app)}"


def test_upgrade_builds_exactly_the_models(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
    assert current_revision(empty_app) == heads(empty_app)[0]
    assert set(Model.metadata.tables) <= table_names(empty_app)
    assert schema_differences(empty_app) == []


def test_downgrade_to_base_then_upgrade_again(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
    assert current_revision(empty_app) is None
    assert table_names(empty_app) - {"alembic_version"} == set()

    with empty_app.app_context():
        flask_migrate.upgrade()
    assert current_revision(empty_app) == heads(empty_app)[0]
    assert schema_differences(empty_app) == []
