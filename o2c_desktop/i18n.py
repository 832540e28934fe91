"""Translations through gettext, shared by the UI and the headless engine.

The UI language is a user setting; documents are rendered in the customer's
language, so the engine asks for a translator per language with `translator()`.
"""

from __future__ import annotations

import gettext
import logging
from functools import cache
from o2c_desktop import resources

log = logging.getLogger(__name__)

LOCALE_DIR = resources.path("locale")
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
    global _current  # noqa: PLW0603 - one UI language per process, by design
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
