"""Translations through gettext, shared by the UI and the headless engine.

The UI language is a user setting; documents are rendered in the customer's
language, so the engine asks for a translator per language with `translator()`.
"""

from __future__ import annotations

import datetime as dt
import gettext
import logging
import re
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

log = logging.getLogger(__name__)

# resources/ installs as o2c_desktop.resources (see pyproject.toml).
LOCALE_DIR = Path(str(files("o2c_desktop.resources") / "locale"))
DOMAIN = "o2c_desktop"
SUPPORTED_LANGUAGES = ("fr", "en")

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def current_language() -> str:
    """The UI language `set_language` chose last ("en" before any)."""
    return _language


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
    global _current, _language
    _current = translator(language)
    _language = language
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


def format_share(percent: float | Decimal, language: str, digits: int = 1) -> str:
    """A share given in percent, e.g. ``87,3 %`` in French, ``87.3%`` in English."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    # The locale's own percent pattern decides the space before the sign.
    spaced = " %" in (_percent_pattern(language) or "")
    if spaced:
        pattern = pattern[:-1] + "\u00a0%"
    return format_percent(
        Decimal(str(percent)) / 100, format=pattern, locale=locale_for(language)
    )


@cache
def _percent_pattern(language: str) -> str | None:
    pattern = Locale.parse(locale_for(language)).percent_formats.get(None)
    return None if pattern is None else pattern.pattern.replace("\u00a0", " ")


def format_month(year: int, month: int, language: str) -> str:
    """A month, e.g. ``avr. 2024`` in French, ``Apr 2024`` in English."""
    return format_skeleton("yMMM", dt.date(year, month, 1), locale=locale_for(language))


def format_period(text: str, language: str) -> str:
    """An ISO month (``2024-04``) or week (``2026-W10``) as the locale writes it.

    Anything else comes back translated as it is.
    """
    if (found := _ISO_MONTH.match(text)) is not None:
        return format_month(int(found[1]), int(found[2]), language)
    if (found := _ISO_WEEK.match(text)) is not None:
        return _("W{week} {year}").format(week=int(found[2]), year=found[1])
    return _(text)


_ISO_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
