"""Start-up checks of the launcher: model, shop database and indexes, each a one-line fix.

Why: without them a missing model, an unreachable database or a truncated index
shows up as a wall of traceback from one of three child processes (or, for an
index, only on the first product question), and a missing SQLite file is even
created empty by SQLAlchemy. :func:`check` looks at each before anything starts
and returns one line per problem naming the file or URL and the command that
fixes it; ``python -m assistant.launcher`` prints them and exits with
:data:`EXIT_PREFLIGHT` (``tests/reliability/test_startup_faults.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from core.settings import Settings

EXIT_PREFLIGHT = 2
BUILD_HINT = "build it with `shop build` (or fix SHOP_DATABASE_URL)"
TRAIN_HINT = "train one with `make train` (or pass --model PATH)"
CONNECT_TIMEOUT_S = 5


def _first_line(error: BaseException) -> str:
    """The driver's own message (``orig`` of SQLAlchemy errors), first line only."""
    text = str(getattr(error, "orig", None) or error).strip()
    return (text.splitlines() or [error.__class__.__name__])[0].strip()


def safe_url(url: str) -> str:
    """The database URL without its password (it ends up in terminals and logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported as it is, minus nothing secret
        return url.split("@")[-1]


def check_model(model: Optional[Path], models_dir: Path) -> List[str]:
    if model is None:
        return [f"no trained model in {models_dir}: {TRAIN_HINT}"]
    if not model.is_file():
        return [f"model file {model} is missing: {TRAIN_HINT}"]
    try:
        with open(model, "rb") as archive:
            magic = archive.read(2)
    except OSError as error:
        return [f"model file {model} is unreadable ({error.strerror}): {TRAIN_HINT}"]
    if magic != b"\x1f\x8b":  # every Rasa model is a .tar.gz
        return [f"model file {model} is not a Rasa model archive (.tar.gz): {TRAIN_HINT}"]
    return []


def check_secret_key(settings: Settings) -> List[str]:
    """The rule of ``web.auth.resolve_secret_key``: an explicit database (a shared deployment) needs a real key."""
    if settings.database_url and not settings.secret_key:
        return [
            "SHOP_SECRET_KEY must be set when SHOP_DATABASE_URL is (scale-out mode): "
            "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        ]
    return []


def check_support_hours(settings: Settings) -> List[str]:
    """The support team's hours, time zone and holidays must be readable before any shopper asks for a person."""
    from handoff.hours import InvalidHours, SupportHours

    try:
        SupportHours.from_settings(settings)
    except InvalidHours as error:
        return [f"SHOP_SUPPORT_HOURS / SHOP_SUPPORT_TIMEZONE / SHOP_SUPPORT_HOLIDAYS: {error}"]
    return []


def check_database(url: str) -> List[str]:
    """Connect (5 s at most) and find the shop's tables; never creates a SQLite file."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    shown = safe_url(url)
    try:
        parsed = make_url(url)
    except Exception as error:  # noqa: BLE001 - ArgumentError and friends
        return [f"SHOP_DATABASE_URL {shown!r} is not a database URL ({_first_line(error)})"]
    connect_args = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database)
            if not path.is_file():
                return [f"shop database {path} is missing: {BUILD_HINT}"]
    elif parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(url, future=True, connect_args=connect_args)
    except Exception as error:  # noqa: BLE001 - unknown dialect, missing driver
        return [f"cannot use the shop database {shown} ({_first_line(error)}): fix SHOP_DATABASE_URL"]
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError as error:
        reason = _first_line(error)
        if "does not exist" in reason and parsed.database:
            hint = f"create it (`createdb {parsed.database}`), then {BUILD_HINT}"
        elif "not a database" in reason or "malformed" in reason:
            hint = f"the file is damaged: move it away and {BUILD_HINT}"
        else:
            hint = "check that the database server is running and SHOP_DATABASE_URL is right"
        return [f"cannot open the shop database {shown} ({reason}): {hint}"]
    finally:
        engine.dispose()
    missing = sorted({"products", "orders", "policy_passages", "handoff_tickets"} - tables)
    if missing:
        return [f"shop database {shown} has no {', '.join(missing)} table(s): {BUILD_HINT}"]
    return []


def check_indexes(index_dir: Path, embedder_name: Optional[str] = None) -> List[str]:
    """Both FAISS indexes present, matching their manifest checksums, readable, and built by the
    embedder the action server will use (its name only: the model itself is not loaded here)."""
    from retrieval.index import KnowledgeIndexError, VectorIndex
    from retrieval.indexing import POLICIES, PRODUCTS

    problems = []
    for name in (PRODUCTS, POLICIES):
        try:
            VectorIndex.load(index_dir, name, model=embedder_name, use_gpu=False)
        except KnowledgeIndexError as error:  # its message ends with the rebuild command
            problems.append(f"{error} (index folder {index_dir})")
    return problems


def embedder_name(settings: Settings) -> Optional[str]:
    """The name the action server's embedder writes into manifests (``retrieval.embeddings.Embedder.name``)."""
    from retrieval.embeddings import Embedder

    try:
        return Embedder(settings.embedding_model, backend=settings.embedding_backend).name
    except ValueError:  # an unknown back end: the action server says so itself
        return None


def check(settings: Settings, model: Optional[Path]) -> List[str]:
    """Every start-up problem, one line each (empty: good to go). The database comes first:
    without it the index cannot be rebuilt, so its hint would mislead."""
    problems = check_model(model, settings.var_dir / "models") + check_secret_key(settings)
    problems += check_support_hours(settings)
    database = check_database(settings.resolved_database_url)
    problems += database
    if not database:
        problems += check_indexes(settings.resolved_index_dir, embedder_name(settings))
    return problems
