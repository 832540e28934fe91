"""French company identifiers: SIREN, SIRET (Luhn) and the FR VAT number's key.

Pure checks used at import, on edit and by the risk sync, so that a SIREN typo
is caught before it matches a notice about another company.
"""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"[\s.\-\u00a0\u202f]")
# La Poste's SIREN and SIRETs do not follow Luhn: INSEE checks the digit sum.
_LA_POSTE = "356000000"


def digits(text: str | None) -> str:
    """`text` without the spaces, dots and dashes people type in identifiers."""
    return _NOT_DIGIT.sub("", text or "")


def luhn_ok(number: str) -> bool:
    """Whether a string of digits passes the Luhn check."""
    if not number.isdigit():
        return False
    total = 0
    for pos, char in enumerate(reversed(number)):
        value = int(char)
        if pos % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def siren_ok(text: str | None) -> bool:
    """Whether `text` is a valid SIREN (9 digits, Luhn), spaces allowed."""
    value = digits(text)
    return (
        len(value) == 9 and value.isdigit() and (luhn_ok(value) or value == _LA_POSTE)
    )


def siret_ok(text: str | None) -> bool:
    """Whether `text` is a valid SIRET (14 digits, Luhn; La Poste by digit sum)."""
    value = digits(text)
    if len(value) != 14 or not value.isdigit():
        return False
    if value.startswith(_LA_POSTE):
        return sum(map(int, value)) % 5 == 0
    return luhn_ok(value)


def siren_of(text: str | None) -> str | None:
    """The SIREN a customer's legal id names (a SIREN or a SIRET), if valid."""
    value = digits(text)
    if len(value) == 14 and siret_ok(value):
        return value[:9]
    if len(value) == 9 and siren_ok(value):
        return value
    return None


def fr_vat_key(siren: str) -> str:
    """The two-digit key of the FR VAT number of `siren`."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def fr_vat_number(siren: str) -> str:
    """The FR VAT number of a valid SIREN, e.g. FR11123456782."""
    return f"FR{fr_vat_key(siren)}{siren}"


def vat_problem(text: str | None, siren: str | None = None) -> str | None:
    """What is wrong with a VAT number, or None when it looks right.

    Only French numbers are checked in depth (the key, and the SIREN when the
    customer's is known); other countries' are left to their own rules.
    """
    value = digits(text).upper()
    if not value:
        return None
    if not re.fullmatch(r"[A-Z]{2}(?=[0-9A-Z]*\d)[0-9A-Z]{2,13}", value):
        return f"not a VAT number: {text!r}"
    if not value.startswith("FR"):
        return None
    if not re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", value):
        return f"a French VAT number is FR, a 2-character key and the SIREN: {text!r}"
    body = value[4:]
    if not siren_ok(body):
        return f"the SIREN in VAT number {text!r} is not valid"
    key = value[2:4]
    if key.isdigit() and key != fr_vat_key(body):
        return f"wrong key in VAT number {text!r}: expected {fr_vat_number(body)}"
    if siren and digits(siren) != body:
        return f"VAT number {text!r} is not the SIREN {siren}'s"
    return None


def legal_id_problem(text: str | None, country: str | None) -> str | None:
    """What is wrong with a French customer's SIREN/SIRET, or None.

    Customers of other countries carry their own registry numbers: left as is.
    """
    value = digits(text)
    if not value or (country or "FR").upper() != "FR":
        return None
    if len(value) == 9:
        return None if siren_ok(value) else f"invalid SIREN {text!r} (check digit)"
    if len(value) == 14:
        return None if siret_ok(value) else f"invalid SIRET {text!r} (check digit)"
    return f"a SIREN has 9 digits, a SIRET 14: {text!r}"
