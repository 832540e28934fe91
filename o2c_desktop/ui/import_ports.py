"""What the import screen needs from the layers below, as typing Protocols.

`app.py` wires them to `services.importing` (which the UI may not import);
the values crossing over come from `o2c_desktop.sync.importing`, which holds
no SQLAlchemy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from decimal import Decimal
    from pathlib import Path

    from o2c_desktop.engine.imports import ImportRecord, UndoResult
    from o2c_desktop.sync.importing.outcome import EntityChoice, ImportResult
    from o2c_desktop.sync.importing.parse import ImportOptions, ParsedImport
    from o2c_desktop.ui.ports import Workspace

log = logging.getLogger(__name__)


class Importer(Protocol):
    """Writes an import into one open database (`services.importing.ImportService`)."""

    def entities(self) -> list[EntityChoice]:
        """The entities one can import into."""
        ...

    def apply(
        self,
        parsed: ParsedImport,
        *,
        entity_code: str | None = ...,
        as_of: dt.date,
        partial: bool = ...,
        valid_only: bool = ...,
        dry_run: bool = ...,
        create_entity: bool = ...,
        confirm_close: bool = ...,
        max_close_share: Decimal | None = ...,
        report: Callable[[int], None] | None = ...,
        cancelled: Callable[[], bool] | None = ...,
    ) -> ImportResult:
        """Write the parsed rows, all or nothing.

        Raises `engine.imports.CloseNotConfirmedError` when a full import would
        close too much without `confirm_close`.
        """
        ...

    def history(self, entity_code: str | None = ...) -> list[ImportRecord]:
        """The past imports, newest first."""
        ...

    def undo(self, import_id: int) -> UndoResult:
        """Undo one import as a whole (`engine.imports.UndoRefusedError` if not)."""
        ...


class PreviewFn(Protocol):
    """Reads and checks a file (`sync.importing.parse.parse_file`)."""

    def __call__(
        self,
        path: Path | str,
        options: ImportOptions | None = ...,
        *,
        report: Callable[[int], None] | None = ...,
        limit: int | None = ...,
    ) -> ParsedImport:
        """The parsed file: mapping, rows, problems."""
        ...


@dataclass(frozen=True)
class ImportPorts:
    """The calls the import screen makes below itself, wired by `app.py`.

    Attributes:
        preview: reads and checks a file; touches no database.
        open_importer: the importer of an open workspace.
        list_profiles: names of the saved mapping profiles.
        load_profile: the options a profile holds (LookupError if unknown).
        save_profile: saves a file's mapping under a name.
    """

    preview: PreviewFn
    open_importer: Callable[[Workspace], Importer]
    list_profiles: Callable[[], list[str]]
    load_profile: Callable[[str], ImportOptions]
    save_profile: Callable[[str, ParsedImport], Path]
