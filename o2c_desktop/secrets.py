"""Passwords in the operating system's keyring, never in the settings file."""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Literal

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "o2c-desktop"

KeyringKind = Literal["secure", "plaintext", "none"]


class NoKeyringError(keyring.errors.KeyringError):
    """No keyring can keep a password on this machine (one-line message)."""


def database_key(url_without_password: str) -> str:
    """The keyring entry name for a database URL (which holds no password)."""
    return f"database:{url_without_password}"


def connector_key(name: str) -> str:
    """The keyring entry name of an ERP connector's password."""
    return f"connector:{name}"


def keyring_kind() -> KeyringKind:
    """Whether passwords stored now would be safe, in a plain file, or nowhere."""
    backend = keyring.get_keyring()
    # The chainer stores into the first of its backends that accepts.
    chained = getattr(backend, "backends", None)
    if chained is not None:
        if not chained:
            return "none"
        backend = chained[0]
    if isinstance(
        backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring
    ):
        return "none"
    if type(backend).__name__ == "PlaintextKeyring":  # keyrings.alt.file
        return "plaintext"
    return "secure"


def get_password(key: str) -> str | None:
    """Read a secret; None when absent or when no keyring is available."""
    try:
        return keyring.get_password(SERVICE, key)
    except keyring.errors.KeyringError as exc:
        log.warning("No keyring to read a stored password from (%s)", _first_line(exc))
        return None


def set_password(key: str, password: str) -> None:
    """Store a secret, warning once when the keyring is a plain-text file.

    Raises:
        NoKeyringError: no keyring can store it on this machine; the message
            is one line saying what to do instead.
    """
    kind = keyring_kind()
    if kind == "none":
        raise NoKeyringError(
            "no keyring on this machine to keep the password: install one "
            "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential "
            "Manager)"
        )
    if kind == "plaintext":
        _warn_plaintext()
    try:
        keyring.set_password(SERVICE, key, password)
    except keyring.errors.KeyringError as exc:
        raise NoKeyringError(
            f"the keyring could not store the password: {_first_line(exc)}"
        ) from exc


def delete_password(key: str) -> None:
    """Forget a secret if stored."""
    with contextlib.suppress(keyring.errors.KeyringError):
        keyring.delete_password(SERVICE, key)


def reset_warnings() -> None:
    """Warn again about a plain-text keyring (a new session, or a test)."""
    _warn_plaintext.cache_clear()


@functools.cache
def _warn_plaintext() -> None:
    # Once per process: a command that stores two passwords warns once.
    log.warning(
        "The only keyring here (keyrings.alt) keeps passwords in a plain-text "
        "file that anyone with access to your account can read: install a "
        "system keyring to protect them"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
