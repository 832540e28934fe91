"""Item models of the import screen: mapping, rows read, problems, history.

Kept beside `itemmodels.py` (whose `RowTableModel` they reuse) so the import
screen stays one plug-in unit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor

from o2c_desktop.engine.imports import ImportRecord
from o2c_desktop.i18n import N_, _, format_date, format_money
from o2c_desktop.sync.importing.detect import ColumnMapping
from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.sync.importing.parse import ImportRow, Problem
from o2c_desktop.ui.itemmodels import Column, Index, RowTableModel

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

UNCERTAIN_COLOR = QColor("#fff3e0")  # amber: the user should confirm
ERROR_COLOR = QColor("#ffebee")
FIELD_ROLE = Qt.ItemDataRole.UserRole + 1  # the `Field` of a mapping row

FIELD_LABELS: dict[Field, str] = {
    Field.IGNORE: N_("(not imported)"),
    Field.CUSTOMER_REF: N_("Customer reference"),
    Field.CUSTOMER_NAME: N_("Customer name"),
    Field.NUMBER: N_("Item number"),
    Field.INSTALMENT: N_("Instalment"),
    Field.KIND: N_("Item type"),
    Field.REFERENCE: N_("Reference"),
    Field.ISSUE_DATE: N_("Issue date"),
    Field.DUE_DATE: N_("Due date"),
    Field.AMOUNT: N_("Amount"),
    Field.REMAINING: N_("Remaining"),
    Field.DEBIT: N_("Debit"),
    Field.CREDIT: N_("Credit"),
    Field.DEBIT_CREDIT: N_("Debit/credit indicator"),
    Field.CURRENCY: N_("Currency"),
    Field.ACCOUNT: N_("Ledger account"),
    Field.JOURNAL: N_("Journal"),
    Field.LETTERING: N_("Lettering"),
    Field.LETTERING_DATE: N_("Lettering date"),
    Field.ENTITY: N_("Entity"),
    Field.SETTLED_DATE: N_("Settled on (paid history)"),
    Field.PAID_AMOUNT: N_("Paid amount"),
    Field.DISPUTED: N_("Disputed"),
}
_REASONS = {
    "layout": N_("known layout"),
    "profile": N_("saved profile"),
    "user": N_("your choice"),
    "header": N_("header"),
    "header (partial)": N_("header (partly), please check"),
    "values": N_("guessed from the values, please check"),
    "duplicate": N_("same field as another column"),
    "unknown": N_("unknown header"),
    "words": N_("header words"),
    "empty": N_("empty column"),
    "index": N_("row numbers (an index)"),
    "weaker": N_("another column fits better"),
}
_KIND_LABELS = {
    "invoice": N_("Invoice"),
    "credit_note": N_("Credit note"),
    "unapplied_cash": N_("Unapplied cash"),
    "adjustment": N_("Adjustment"),
}


def field_label(target: Field) -> str:
    """A field's name for the user."""
    return _(FIELD_LABELS[target])


class MappingTableModel(RowTableModel[ColumnMapping]):
    """One row per column of the file; the field is chosen in a drop-down.

    Signals:
        field_chosen(int, object): the user set column `index` to a `Field`.
    """

    field_chosen = Signal(int, object)

    FIELD_COLUMN = 2
    columns: ClassVar[Sequence[Column[Any]]] = (
        Column(N_("Column"), lambda m, _lang: m.letter),
        Column(N_("Header in the file"), lambda m, _lang: m.header),
        Column(N_("Imported as"), lambda m, _lang: field_label(m.field)),
        Column(N_("How"), lambda m, _lang: _(_REASONS.get(m.reason, m.reason))),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        mapping = self.row_value(index.row())
        if role == Qt.ItemDataRole.BackgroundRole and mapping.uncertain:
            return QBrush(UNCERTAIN_COLOR)
        if role == FIELD_ROLE:
            return mapping.field
        if role == Qt.ItemDataRole.EditRole and index.column() == self.FIELD_COLUMN:
            return mapping.field.value
        return super().data(index, role)

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if (
            role != Qt.ItemDataRole.EditRole
            or not index.isValid()
            or index.column() != self.FIELD_COLUMN
        ):
            return False
        try:
            target = Field(value)
        except ValueError:
            return False
        mapping = self.row_value(index.row())
        if target is mapping.field:
            return False
        self.field_chosen.emit(mapping.index, target)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == self.FIELD_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags


def _day(value: Any, language: str) -> str:
    return format_date(value, language) if value is not None else ""


class ImportRowsTableModel(RowTableModel[ImportRow]):
    """The first rows as they will be imported (amounts as Decimal)."""

    columns: ClassVar[Sequence[Column[Any]]] = (
        Column(N_("Row"), lambda r, _lang: str(r.row), amount=True),
        Column(N_("Customer"), lambda r, _lang: r.customer_ref),
        Column(N_("Name"), lambda r, _lang: r.customer_name),
        Column(N_("Item number"), lambda r, _lang: r.number),
        Column(
            N_("Type"),
            lambda r, _lang: (
                _(_KIND_LABELS.get(r.kind.value, r.kind.value)) if r.kind else ""
            ),
        ),
        Column(N_("Issue date"), lambda r, lang: _day(r.issue_date, lang)),
        Column(N_("Due date"), lambda r, lang: _day(r.due_date, lang)),
        Column(
            N_("Amount"),
            lambda r, lang: format_money(r.amount, r.currency or "EUR", lang),
            amount=True,
        ),
        Column(
            N_("Remaining"),
            lambda r, lang: format_money(r.remaining, r.currency or "EUR", lang),
            amount=True,
        ),
        Column(N_("Problem"), lambda r, _lang: _(r.error) if r.error else ""),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.BackgroundRole
            and index.isValid()
            and index.row() < self.rowCount()
            and self.row_value(index.row()).error
        ):
            return QBrush(ERROR_COLOR)
        return super().data(index, role)


def _where(problem: Problem) -> str:
    return problem.column or ""


class ProblemTableModel(RowTableModel[Problem]):
    """Every problem found: where it is, the value and why."""

    columns: ClassVar[Sequence[Column[Any]]] = (
        Column(
            N_("Severity"),
            lambda p, _lang: _("Error") if p.severity == "error" else _("Warning"),
        ),
        Column(N_("File"), lambda p, _lang: p.file),
        Column(N_("Sheet"), lambda p, _lang: p.sheet),
        Column(
            N_("Row"),
            lambda p, _lang: str(p.row) if p.row is not None else "",
            amount=True,
        ),
        Column(N_("Column"), lambda p, _lang: _where(p)),
        Column(N_("Value"), lambda p, _lang: p.value or ""),
        Column(N_("Why"), lambda p, _lang: _(p.message)),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.row() < self.rowCount()
            and self.row_value(index.row()).severity == "error"
        ):
            return QBrush(QColor("#b71c1c"))
        return super().data(index, role)


def _when(record: ImportRecord, language: str) -> str:
    local = record.taken_at.astimezone()
    return f"{format_date(local.date(), language)} {local:%H:%M}"


class ImportHistoryTableModel(RowTableModel[ImportRecord]):
    """The past imports, newest first, and whether each was undone."""

    columns: ClassVar[Sequence[Column[Any]]] = (
        Column(N_("Import"), lambda r, _lang: str(r.id), amount=True),
        Column(N_("Imported on"), _when),
        Column(N_("Entity"), lambda r, _lang: r.entity),
        Column(N_("Balance date"), lambda r, lang: format_date(r.as_of, lang)),
        Column(
            N_("Kind"),
            lambda r, _lang: _("Full") if r.full else _("Partial"),
        ),
        Column(N_("File"), lambda r, _lang: r.source.rsplit("/", 1)[-1]),
        Column(N_("Created"), lambda r, _lang: str(r.created), amount=True),
        Column(N_("Updated"), lambda r, _lang: str(r.updated), amount=True),
        Column(N_("Closed"), lambda r, _lang: str(r.closed), amount=True),
        Column(
            N_("Undone"),
            lambda r, lang: (
                format_date(r.undone_at.astimezone().date(), lang)
                if r.undone_at is not None
                else ""
            ),
        ),
    )
