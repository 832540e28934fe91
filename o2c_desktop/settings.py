"""User preferences as a frozen dataclass, stored in a small INI file.

No Qt here: the `o2c` command reads the same file as the app. Secrets never
go in this file; they live in the operating system's keyring (`secrets.py`).
Environment variables override the file, which is how CI and a nightly
server job point `o2c` at a shared database:

- ``O2C_DATABASE_URL``: the database (``sqlite:///...`` or ``postgresql+psycopg://...``)
- ``O2C_USER``: the login of the current user
- ``O2C_CONFIG_DIR`` / ``O2C_DATA_DIR``: where settings and the embedded database live
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "o2c-desktop"
_SECTION = "settings"


def config_dir() -> Path:
    """Folder of the settings file."""
    env = os.environ.get("O2C_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME, False))


def data_dir() -> Path:
    """Folder of the embedded database, backups and generated documents."""
    env = os.environ.get("O2C_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, False))


def cache_dir() -> Path:
    """Folder of what can be recomputed (public holidays); safe to delete."""
    env = os.environ.get("O2C_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME, False))


def default_database_url() -> str:
    """The embedded SQLite database in the user's data directory."""
    return f"sqlite:///{(data_dir() / 'o2c.sqlite3').as_posix()}"


@dataclass(frozen=True)
class Settings:
    """Preferences of one user on one machine.

    Attributes:
        database_url: SQLAlchemy URL without password; empty means the embedded
            SQLite database.
        user_login: login of the current user in the `app_user` table.
        language: UI language ("fr" or "en").
        send_cap: an automatic run that would send more emails or letters than
            this stops and asks for confirmation.
        smtp_host: mail server for reminders; empty means mail is not set up.
        smtp_port: 587 (STARTTLS), 465 (SSL).
        smtp_security: "starttls", "ssl" or "none".
        smtp_user: SMTP login; its password is in the OS keyring.
        mail_from: the mailbox reminders are sent from (the collector is the
            Reply-To); empty sends from the collector's own address.
        smtp_ca_file: a PEM file of the certificate authority that signed the
            mail server's certificate (a company CA); empty trusts the
            system's authorities only.
        import_max_close_share: a full import that would close more than
            this percentage of an entity's open items or outstanding stops
            and asks for confirmation.
    """

    database_url: str = ""
    user_login: str = ""
    language: str = "fr"
    send_cap: int = 500
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    mail_from: str = ""
    smtp_ca_file: str = ""
    import_max_close_share: int = 20

    @property
    def effective_database_url(self) -> str:
        """The URL to open, after environment overrides and defaults."""
        return (
            os.environ.get("O2C_DATABASE_URL")
            or self.database_url
            or default_database_url()
        )

    @property
    def effective_user(self) -> str:
        """The current user's login, after environment overrides."""
        return os.environ.get("O2C_USER") or self.user_login


def settings_path() -> Path:
    """Path of the settings file."""
    return config_dir() / "settings.ini"


def load(path: Path | None = None) -> Settings:
    """Read settings, falling back to defaults for missing or invalid values."""
    path = path or settings_path()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    if not parser.has_section(_SECTION):
        return Settings()
    section = parser[_SECTION]
    values: dict[str, object] = {}
    for field in dataclasses.fields(Settings):
        if field.name not in section:
            continue
        raw = section[field.name]
        if field.type == "int":
            try:
                values[field.name] = int(raw)
            except ValueError:
                log.warning("Ignoring invalid %s=%r in %s", field.name, raw, path)
        else:
            values[field.name] = raw
    return Settings(**values)  # type: ignore[arg-type]  # values typed per field above


def save(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically (a crash never leaves half a file).

    The file is readable by the user only (0600, its folder 0700 when this
    creates it): it says which database and which login, and an older version
    of the app wrote database passwords into it.
    """
    path = path or settings_path()
    parser = _read(path)
    parser[_SECTION] = {
        f.name: str(getattr(settings, f.name)) for f in dataclasses.fields(Settings)
    }
    _write(parser, path)


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return parser


def _write(parser: configparser.ConfigParser, path: Path) -> None:
    """Write the whole file atomically, readable by the user only."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a leftover would keep its old permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        parser.write(fh)
    tmp.replace(path)


_CONNECTOR = "connector:"
WRITE_BACK_KINDS = (
    "letter",
    "email",
    "call",
    "promise",
    "payment_plan",
    "dispute",
    "litigation",
    "hold",
    "other",
)


@dataclass(frozen=True)
class ConnectorSettings:
    """One ERP connector; its password is in the keyring (`secrets.connector_key`).

    Attributes:
        name: how the user calls it (``o2c sync erp --connector NAME``).
        kind: the ERP: ``tryton`` or ``odoo``.
        url: the ERP server.
        database: the ERP database.
        login: the ERP user the sync logs in as.
        entity: the code of the entity its customers and items go to.
        write_back: which performed actions go back to the ERP.
        interval_minutes: how often the app pulls in the background (0: never).
    """

    name: str
    kind: str
    url: str
    database: str
    login: str
    entity: str
    write_back: tuple[str, ...] = WRITE_BACK_KINDS
    interval_minutes: int = 60


def load_connectors(path: Path | None = None) -> dict[str, ConnectorSettings]:
    """The connectors set up, by name (their sections ``[connector:NAME]``)."""
    parser = _read(path or settings_path())
    out: dict[str, ConnectorSettings] = {}
    for section in parser.sections():
        if not section.startswith(_CONNECTOR):
            continue
        values = parser[section]
        name = section[len(_CONNECTOR) :]
        try:
            interval = int(values.get("interval_minutes", "60"))
        except ValueError:
            interval = 60
        out[name] = ConnectorSettings(
            name=name,
            kind=values.get("kind", ""),
            url=values.get("url", ""),
            database=values.get("database", ""),
            login=values.get("login", ""),
            entity=values.get("entity", ""),
            write_back=tuple(
                k.strip()
                for k in values.get("write_back", ",".join(WRITE_BACK_KINDS)).split(",")
                if k.strip()
            ),
            interval_minutes=interval,
        )
    return out


def save_connector(connector: ConnectorSettings, path: Path | None = None) -> None:
    """Add or replace a connector's section, keeping the rest of the file."""
    path = path or settings_path()
    parser = _read(path)
    parser[_CONNECTOR + connector.name] = {
        "kind": connector.kind,
        "url": connector.url,
        "database": connector.database,
        "login": connector.login,
        "entity": connector.entity,
        "write_back": ",".join(connector.write_back),
        "interval_minutes": str(connector.interval_minutes),
    }
    _write(parser, path)
