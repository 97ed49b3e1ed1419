"""Engine and session factory, and the programmatic ``alembic upgrade head``.

One code path for SQLite (embedded default, ``var/shop.db``) and PostgreSQL (by
URL). SQLite gets WAL journaling so the action server can read while a build or
an import writes, and a busy timeout instead of "database is locked" errors.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class ShopSQLiteConnection(sqlite3.Connection):
    """The SQLite connections of our own engines.

    ``shop_managed`` tells the Rasa-store patch (``rasa_addons.patches.sqlite_stores``, which listens on every
    engine because Rasa builds its own) to leave these alone: their pragmas are set here.
    """

    shop_managed = True


DEFAULT_TIMEOUT = 30.0  # seconds: command-line tools (build, import) may wait for a writer


def create_db_engine(url: str, *, echo: bool = False, timeout: Optional[float] = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    ``timeout`` bounds how long one statement may wait: for a lock on SQLite (``busy_timeout``),
    for the connection, a lock and the statement itself on PostgreSQL. Servers pass their
    ``SHOP_DB_TIMEOUT`` so that no request holds a worker thread for longer than that; tools
    (build, import, migrations) leave it unset: 30 s for a lock, no statement limit.
    """
    bounded = timeout is not None
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    milliseconds = max(1, int(timeout * 1000))
    if _is_sqlite(url):
        database = make_url(url).database
        in_memory = not database or database == ":memory:"
        if in_memory:
            # One shared connection, or every checkout would see a different empty database.
            engine = create_engine(
                url,
                future=True,
                echo=echo,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False, "factory": ShopSQLiteConnection},
            )
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # A small QueuePool (SQLAlchemy 1.4 defaults to NullPool for SQLite files, which
            # reconnects and re-runs the pragmas on every checkout). SQLite serialises writers;
            # WAL lets readers proceed meanwhile, busy_timeout makes writers wait, not fail.
            engine = create_engine(
                url,
                future=True,
                echo=echo,
                poolclass=QueuePool,
                pool_size=5,
                max_overflow=10,
                pool_timeout=timeout,
                connect_args={"check_same_thread": False, "timeout": timeout, "factory": ShopSQLiteConnection},
            )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={milliseconds}")
            cur.close()

        return engine
    connect_args = {}
    if bounded and make_url(url).get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(1, int(round(timeout))),
            "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}",
        }
    return create_engine(
        url,
        future=True,
        echo=echo,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=timeout,
        connect_args=connect_args,
    )


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions in 2.0 style; objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """Commit on success, roll back on error, always close."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    """An alembic ``Config`` pointing at ``shopdb/migrations`` with ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal "%" in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "heads") -> None:
    """Run ``alembic upgrade heads`` on ``url`` (creates the database file if needed).

    ``heads``, not ``head``: the web and insights revisions both branch from the
    knowledge schema, so the chain may have several heads.
    """
    from alembic import command

    if _is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> Optional[str]:
    """The alembic revision stamped in the database, or None when never migrated."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None
