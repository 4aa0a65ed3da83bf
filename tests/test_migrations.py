"""Alembic revisions: upgrade to head, match the models, downgrade to base, on both databases."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, text

from beteiligung import create_app
from beteiligung.config import TestingConfig, normalise_database_url
from beteiligung.extensions import db
from beteiligung.ideas.search import is_search_object

from .conftest import is_postgres

MIGRATION_DB = "beteiligung_migration_test"


def _tables(engine):
    """Our tables; the full-text search structures that live only in the database are left out."""
    return {name for name in inspect(engine).get_table_names() if not is_search_object(name)}


def _search_objects(engine):
    inspector = inspect(engine)
    names = set(inspector.get_table_names())
    if "ideas" in names:
        names |= {index["name"] for index in inspector.get_indexes("ideas")}
    return {name for name in names if is_search_object(name)}


def _check_round_trip(url):
    app = create_app(TestingConfig(url))
    with app.app_context():
        engine = db.engine
        assert _tables(engine) == set(), "the database for the migration test must start empty"
        upgrade()
        expected = {table.name for table in db.metadata.sorted_tables}
        assert _tables(engine) == expected | {"alembic_version"}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_object": lambda obj, name, *args: not is_search_object(name),
            })
            assert compare_metadata(context, db.metadata) == [], "models and migrations differ"
        expected_search = {"ix_ideas_fulltext"} if engine.dialect.name == "postgresql" else {"idea_search"}
        assert expected_search <= _search_objects(engine), "the full-text search index is missing"
        downgrade(revision="base")
        assert _tables(engine) == set(), "downgrade to base must leave no tables"
        assert _search_objects(engine) == set()
        upgrade()  # and up again, as after a rollback in production
        assert _tables(engine) == expected | {"alembic_version"}
        db.session.remove()
        engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'migrations.sqlite'}")


@pytest.fixture
def postgres_scratch_database():
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    if not is_postgres(base_url):
        pytest.skip("PostgreSQL migrations run with TEST_DATABASE_URL=postgresql+psycopg://... (as in .ci/run)")
    admin = create_engine(normalise_database_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{MIGRATION_DB}"'))
        connection.execute(text(f'CREATE DATABASE "{MIGRATION_DB}"'))
    url = make_url(normalise_database_url(base_url)).set(database=MIGRATION_DB)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{MIGRATION_DB}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_upgrade_and_downgrade(postgres_scratch_database):
    _check_round_trip(postgres_scratch_database)


def test_the_app_creates_no_tables_on_start_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    app = create_app(TestingConfig(url))
    app.test_client().get("/datenschutz")
    assert _tables(create_engine(url)) == set()
