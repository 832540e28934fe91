"""Translations through gettext, shared by the UI and the headless engine.

The UI language is a user setting; documents are rendered in the customer's
language, so the engine asks for a translator per language with `translator()`.
"""

from __future__ import annotations

import gettext
import logging
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

log = logging.getLogger(__name__)

# resources/ installs as o2c_desktop.resources (see pyproject.toml).
LOCALE_DIR = Path(str(files("o2c_desktop.resources") / "locale"))
DOMAIN = "o2c_desktop"
SUPPORTED_LANGUAGES = ("fr", "en")

_current: gettext.NullTranslations = gettext.NullTranslations()


@cache
def translator(language: str) -> gettext.NullTranslations:
    """Return the compiled catalogue for `language` (English is the source text).

    Args:
        language: an ISO 639-1 code such as "fr".

    Returns:
        The translations, or identity translations when none ship for it.
    """
    return gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def set_language(language: str) -> None:
    """Switch the process-wide UI language."""
    global _current
    _current = translator(language)
    log.debug("UI language set to %s", language)


def _(message: str) -> str:
    """Translate `message` into the current UI language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a plural form."""
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    """Mark `message` for extraction without translating it now."""
    return message


# Locale formatting. Babel knows each locale's separators, so French gets
# "1 234,56 €" (narrow no-break spaces) and English "€1,234.56".
_LOCALES = {"fr": "fr_FR", "en": "en_GB", "es": "es_ES", "de": "de_DE"}
_DATE_PATTERNS = {"de": "dd.MM.yyyy"}


def locale_for(language: str) -> str:
    """The Babel locale used to format numbers and dates for `language`."""
    return _LOCALES.get(language, language)


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """Format an amount with its currency, e.g. ``1 234,56 €`` in French."""
    return format_currency(amount, currency, locale=locale_for(language))


def format_amount(amount: Decimal, language: str) -> str:
    """Format an amount with two decimals and no currency sign."""
    return format_decimal(amount, format="#,##0.00", locale=locale_for(language))


def format_date(day: dt.date, language: str) -> str:
    """Format a date the short way, e.g. ``24/03/2020`` in French."""
    # Four-digit years always: Babel's "short" gives 24/3/20 in Spanish.
    pattern = _DATE_PATTERNS.get(language, "dd/MM/yyyy")
    return babel_format_date(day, format=pattern, locale=locale_for(language))


def format_number(value: float | Decimal, language: str, digits: int = 1) -> str:
    """Format a figure (a share, a ratio) with `digits` decimals, e.g. ``43,9``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale_for(language))
