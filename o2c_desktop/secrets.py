"""Passwords in the operating system's keyring, never in the settings file."""

from __future__ import annotations

import contextlib
import logging

import keyring
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "o2c-desktop"


def database_key(url_without_password: str) -> str:
    """The keyring entry name for a database URL."""
    return f"database:{url_without_password}"


def get_password(key: str) -> str | None:
    """Read a secret; None when absent or when no keyring is available."""
    try:
        return keyring.get_password(SERVICE, key)
    except keyring.errors.KeyringError as exc:
        log.warning("Keyring unavailable (%s); no stored password used", exc)
        return None


def set_password(key: str, password: str) -> None:
    """Store a secret.

    Raises:
        keyring.errors.KeyringError: no keyring can store it on this machine.
    """
    keyring.set_password(SERVICE, key, password)


def delete_password(key: str) -> None:
    """Forget a secret if stored."""
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE, key)
