#!/usr/bin/env python3
"""Translations: extract messages, update the catalogues, compile them.

    python tools/i18n.py extract  # o2c_desktop/**.py -> resources/locale/*.pot
    python tools/i18n.py update   # merge the .pot into each <lang>/LC_MESSAGES/*.po
    python tools/i18n.py merge F.json  # fill missing French from {"English": "..."}
    python tools/i18n.py compile  # .po -> .mo; refuses incomplete catalogues
    python tools/i18n.py check    # fail if a translation is missing or a .mo stale

English is the source language. Each language ships complete or not at all.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "resources" / "locale"
DOMAIN = "o2c_desktop"
POT = LOCALE_DIR / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def languages() -> list[str]:
    """Languages that have a catalogue."""
    return sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())


def po_path(language: str) -> Path:
    """The editable catalogue of `language`."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    """The compiled catalogue of `language`."""
    return po_path(language).with_suffix(".mo")


def extract() -> Catalog:
    """Every message of the package, as a template catalogue."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]  # Babel ships no annotations here
    template = Catalog(project="O2C Desktop", domain=DOMAIN, charset="utf-8")
    found = extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    )
    for filename, lineno, message, comments, context in found:
        template.add(
            message, None, [(filename, lineno)], auto_comments=comments, context=context
        )
    return template


def _write_po(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=88, omit_header=False, sort_output=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _read_po(path: Path, language: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _messages(catalog: Catalog) -> dict[tuple[object, object], object]:
    """What a catalogue translates, as (id, context) -> string(s).

    A compiled file is compared by its messages, not its bytes: another Babel
    version writes a different ``Generated-By`` header for the same messages.
    """

    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {
        (frozen(m.id), m.context): frozen(m.string)
        for m in catalog
        if m.id and not m.fuzzy
    }


def _mo_messages(path: Path) -> dict[tuple[object, object], object]:
    with path.open("rb") as fh:
        return _messages(read_mo(fh))


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    """Messages of `template` that `catalog` does not translate (or marks fuzzy)."""
    result = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found is not None else None
        texts = list(strings) if isinstance(strings, (list, tuple)) else [strings]
        if found is None or found.fuzzy or not all(texts):
            result.append(message.id if isinstance(message.id, str) else message.id[0])
    return result


def cmd_extract() -> int:
    """Write the template."""
    template = extract()
    _write_po(template, POT)
    print(f"{len(template)} messages -> {POT.relative_to(ROOT)}")
    return 0


def cmd_update() -> int:
    """Merge the template into each catalogue; report what needs translating."""
    template = extract()
    _write_po(template, POT)
    for language in languages():
        path = po_path(language)
        catalog = (
            _read_po(path, language)
            if path.exists()
            else Catalog(locale=language, domain=DOMAIN)
        )
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write_po(catalog, path)
        todo = missing(catalog, template)
        print(f"{language}: {len(todo)} to translate in {path.relative_to(ROOT)}")
    return 0


def cmd_merge(language: str, files: list[Path]) -> int:
    """Fill untranslated messages of `language` from JSON files {"English": "..."}."""
    proposals: dict[str, str | list[str]] = {}
    for file in files:
        proposals.update(json.loads(file.read_text(encoding="utf-8")))
    path = po_path(language)
    catalog = _read_po(path, language)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            text = proposals.get(message.id)
            if isinstance(text, str) and text and not message.string:
                message.string = text
                filled += 1
            continue
        # Plural: a list under the singular, or two entries (singular, plural).
        listed = proposals.get(message.id[0])
        pair = [proposals.get(message.id[0]), proposals.get(message.id[1])]
        raw = listed if isinstance(listed, list) else pair
        forms = [f for f in raw if isinstance(f, str) and f]
        done = isinstance(message.string, tuple | list) and all(message.string)
        if len(forms) == 2 and not done:
            message.string = tuple(forms)
            filled += 1
    _write_po(catalog, path)
    print(f"{language}: filled {filled} messages from {len(files)} file(s)")
    return 0


def cmd_compile() -> int:
    """Compile every complete catalogue; refuse an incomplete one."""
    template = extract()
    status = 0
    for language in languages():
        catalog = _read_po(po_path(language), language)
        todo = missing(catalog, template)
        if todo:
            print(f"{language}: {len(todo)} untranslated, not compiled: {todo[:5]}...")
            status = 1
            continue
        mo_path(language).write_bytes(_mo_bytes(catalog))
        print(f"{language}: compiled {mo_path(language).relative_to(ROOT)}")
    return status


def problems() -> list[str]:
    """What `check` reports: missing translations and stale compiled files."""
    template = extract()
    found = []
    for language in languages():
        catalog = _read_po(po_path(language), language)
        found += [f"{language}: untranslated {m!r}" for m in missing(catalog, template)]
        mo = mo_path(language)
        if not mo.exists():
            found.append(f"{language}: {mo.name} missing: run tools/i18n.py compile")
            continue
        if _mo_messages(mo) != _messages(catalog):
            found.append(f"{language}: {mo.name} is stale: run tools/i18n.py compile")
    return found


def cmd_check() -> int:
    """Exit 1 when a catalogue is incomplete or a .mo is stale."""
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


def main() -> int:
    """Run one sub-command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["extract", "update", "merge", "compile", "check"]
    )
    parser.add_argument("files", nargs="*", type=Path, help="merge: JSON files")
    parser.add_argument("--language", default="fr", help="merge: target language")
    args = parser.parse_args()
    if args.command == "merge":
        return cmd_merge(args.language, args.files)
    return {
        "extract": cmd_extract,
        "update": cmd_update,
        "compile": cmd_compile,
        "check": cmd_check,
    }[args.command]()


if __name__ == "__main__":
    sys.exit(main())
