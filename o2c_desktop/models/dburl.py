"""Database URLs as people type them: parsed in one place, shown without password.

The settings file, the keyring entry's name, messages and logs all get the
URL without its password; only `make_engine` puts it back, from the keyring.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

BACKENDS = ("sqlite", "postgresql")
_EXPECTED = "expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
# scheme://user:password@ -> the password, however odd its characters.
_PASSWORD = re.compile(r"^(?P<head>[^:/]*://[^:/@]*:)(?P<password>.*)@", re.DOTALL)


class UrlError(ValueError):
    """A database URL the app cannot use; the message never holds a password."""


def parse(text: str | URL) -> URL:
    """The URL in `text`, checked to be SQLite or PostgreSQL.

    Raises:
        UrlError: one line saying what is wrong, password masked.
    """
    if isinstance(text, URL):
        url = text
    else:
        text = text.strip()
        if not text:
            raise UrlError(f"Empty database URL: {_EXPECTED}")
        if "://" not in text:
            # A bare path: say how to write it as a URL.
            path = Path(text).expanduser().absolute().as_posix()
            raise UrlError(
                f"Invalid database URL {mask(text)!r}: {_EXPECTED} "
                f"(for a SQLite file: sqlite:///{path})"
            )
        try:
            url = make_url(text)
        except ValueError as exc:  # a port that is not a number
            raise UrlError(
                f"Invalid database URL {mask(text)!r}: the port is not a number"
            ) from exc
        except ArgumentError as exc:
            raise UrlError(f"Invalid database URL {mask(text)!r}: {_EXPECTED}") from exc
    backend = url.get_backend_name()
    if backend not in BACKENDS:
        raise UrlError(
            f"Unsupported database {backend!r} ({shown(url)}): "
            "use SQLite (embedded) or PostgreSQL"
        )
    return url


def mask(text: str) -> str:
    """`text` with the password of a ``scheme://user:password@`` URL hidden."""
    return _PASSWORD.sub(r"\g<head>***@", text, count=1)


def without_password(url: URL) -> URL:
    """`url` minus its password.

    ``URL.set(password=None)`` keeps the password (None means "unchanged"),
    so the URL is rebuilt.
    """
    return URL.create(
        url.drivername,
        username=url.username,
        password=None,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )


def bare(url: URL) -> str:
    """`url` as text without its password: what settings and keyring names hold."""
    return without_password(url).render_as_string(hide_password=False)


def shown(url: URL) -> str:
    """`url` as printed to a user or a log: the password as ``***``."""
    return url.render_as_string(hide_password=True)
