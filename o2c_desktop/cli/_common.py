"""Helpers shared by the `o2c` sub-commands."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import TYPE_CHECKING

from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import CommandError
from o2c_desktop.models.db import DatabaseError
from o2c_desktop.services.context import AppContext, open_context
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.sync import mail as mailer

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def app_context(*, migrate: bool = True) -> Iterator[AppContext]:
    """Open the configured database for one command; errors become one line."""
    try:
        ctx = open_context(settings_mod.load(), migrate=migrate)
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield ctx
    finally:
        ctx.close()


def parse_date(text: str) -> dt.date:
    """An ISO date argument (YYYY-MM-DD), for argparse ``type=``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"invalid date {text!r}: use YYYY-MM-DD") from exc


def document_service(ctx: AppContext) -> DocumentService:
    """Documents and email with the mail settings (password from the keyring)."""
    return DocumentService(ctx, mailer.config_from_settings(ctx.settings))
