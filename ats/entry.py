"""`manage.py`'s entry: a command that cannot start or reach its database fails with one
line saying what to do, not a traceback.

- Settings that cannot be loaded (no `SECRET_KEY` with `DEBUG` off, a `DATABASE_URL` that is
  not a database URL, a bad `LOG_FORMAT`...): the settings' own message.
- A database that cannot be reached, does not exist or refuses the credentials: which one
  (its URL without the password), the driver's reason, and where to fix it.
- A database without our tables or columns: run `migrate`.
- Anything else: its type and message, `--traceback` to see where it happened, and the file
  its traceback was written to (for a command nobody watched fail).

`--traceback` keeps Django's behaviour: the exception propagates with its traceback.
"""

from __future__ import annotations

import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, OperationalError

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_SOURCES = "the environment or .env beside manage.py"
MSG_UNREACHABLE = (
    "Cannot connect to the database {database}: {reason}. Check that it is running and "
    "that DATABASE_URL (in {sources}) points at it."
)
MSG_NO_DATABASE = (
    "The database {database} does not exist: create it (createdb {name}), or fix "
    "DATABASE_URL (in {sources})."
)
MSG_NOT_MIGRATED = (
    "The database {database} is not migrated ({missing}): run `{manage} migrate` first."
)
MSG_UNEXPECTED = "{kind}: {message} (run again with --traceback to see where it happened)"
# Driver messages of a database without our schema, or with an older one.
_MISSING_SCHEMA = re.compile(
    r'relation "(?P<relation>[^"]+)" does not exist|no such table: (?P<table>\S+)|'
    r"column (?P<column>\S+) does not exist|no such column: (?P<sqlite_column>\S+)"
)
# What psycopg (and libpq) say when a connection cannot be made, and SQLite of a file it
# cannot open; never a running statement's error (a statement timeout is no connection).
_UNREACHABLE = re.compile(
    r"^(?:connection failed:|connection is bad:|connection to server (?:at|on socket)|"
    r"failed to resolve host|could not translate host|connection timeout expired)|"
    r"unable to open database file"
)
_DRIVER_PREAMBLE = re.compile(
    r"^(?:connection (?:failed|is bad):\s*)?"
    r'(?:connection to server (?:at "[^"]*", port \d+|on socket "[^"]*") failed:\s*)?'
    r"(?:FATAL:\s*)?"
)
_NO_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')


def run_manage(argv: Sequence[str]) -> int:
    """Run a management command; the exit status (1 with one line on stderr on failure)."""
    from django.core.management import execute_from_command_line

    try:
        _load_settings()
        execute_from_command_line(list(argv))
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if "--traceback" in argv:
            raise
        message = known_failure(exc) or _unexpected(exc) + _traceback_kept(exc)
        print(f"Error: {message}", file=sys.stderr)
        return 1
    return 0


def _traceback_kept(exc: BaseException) -> str:
    """Where the traceback of an unexpected error was written, for whoever reads the line
    after the fact (a process manager's log, cron's mail), since they cannot run it again
    with --traceback; "" if it could not be written."""
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="ats-manage-error-", suffix=".txt", delete=False
        ) as file:
            traceback.print_exception(exc, file=file)
    except OSError:
        return ""
    return f"; its traceback is in {file.name}"


def _load_settings() -> None:
    """Load the settings first: Django would otherwise answer a broken configuration with
    "Unknown command" and a note, or a traceback."""
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - loading them is the point


def one_line(exc: BaseException) -> str:
    """What went wrong and what to do, in one line."""
    return known_failure(exc) or _unexpected(exc)


def _unexpected(exc: BaseException) -> str:
    return MSG_UNEXPECTED.format(kind=type(exc).__name__, message=_flat(str(exc)) or "(no message)")


def known_failure(exc: BaseException) -> str | None:
    """The one line for a command that cannot start (settings, database); None otherwise."""
    if isinstance(exc, ImproperlyConfigured):
        return _flat(str(exc))
    if isinstance(exc, DatabaseError):
        return _database_message(exc)
    return None


def _database_message(exc: DatabaseError) -> str | None:
    text = str(exc)
    database = _database_label()
    if missing := _MISSING_SCHEMA.search(text):
        what = next(value for value in missing.groupdict().values() if value)
        kind = "no table" if missing["relation"] or missing["table"] else "no column"
        return MSG_NOT_MIGRATED.format(
            database=database, missing=f"{kind} {what}", manage=_manage_command()
        )
    if isinstance(exc, OperationalError):
        if no_database := _NO_DATABASE.search(text):
            return MSG_NO_DATABASE.format(
                database=database, name=no_database["name"], sources=SETTINGS_SOURCES
            )
        if _UNREACHABLE.search(text):
            return MSG_UNREACHABLE.format(
                database=database, reason=_driver_reason(text), sources=SETTINGS_SOURCES
            )
    return None


def _driver_reason(text: str) -> str:
    """The driver's reason without its preamble: 'Connection refused', 'password
    authentication failed for user "ats"'..."""
    first = _flat(text.split("\n\t", maxsplit=1)[0])
    first = _DRIVER_PREAMBLE.sub("", first)
    return first.rstrip(".") or "no reason given"


def _database_label() -> str:
    """The default database as its URL would name it, without a password."""
    from django.conf import settings

    config = settings.DATABASES["default"]
    if "sqlite" in config["ENGINE"]:
        return f"sqlite:///{config['NAME']}"
    user = f"{config['USER']}@" if config.get("USER") else ""
    host = config.get("HOST") or config.get("OPTIONS", {}).get("host") or ""
    if not host or host.startswith("/"):  # libpq's Unix socket, not a TCP host
        where = f"the Unix socket in {host}" if host else "the local Unix socket"
        return f"postgres://{user}/{config['NAME']} ({where})"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{user}{host}{port}/{config['NAME']}"


def _manage_command() -> str:
    python = Path(sys.executable)
    try:
        python = python.relative_to(BASE_DIR)
    except ValueError:
        return "python manage.py"
    return f"{python} manage.py"


def _flat(text: str) -> str:
    return " ".join(text.split())
