"""Item models: adapt the frozen values of `o2c_desktop.engine.book` to Qt views.

They never query anything. A view asks a service (through a worker) and hands
the result to its item model; the customer list asks for more rows with the
`rows_requested` signal when the view scrolls near its end.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont

from o2c_desktop.engine.book import (
    AgendaEntry,
    AgingLine,
    CustomerPage,
    CustomerRow,
    ScenarioInfo,
    StepInfo,
)
from o2c_desktop.i18n import N_, _, format_date, format_money, ngettext
from o2c_desktop.ui import icons
from o2c_desktop.ui.labels import action_type_label, mode_label, status_label

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from o2c_desktop.engine.book import Agenda, BookSummary

log = logging.getLogger(__name__)

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter
LATE_COLOR = QColor("#c62828")
ROW_ROLE = Qt.ItemDataRole.UserRole  # the value object behind a row


def days_text(days: int | None) -> str:
    """Days late as a collector reads them, e.g. "738 j"."""
    if days is None:
        return ""
    return ngettext("{n} day", "{n} days", days).format(n=days)


def format_count(n: int, language: str) -> str:
    """A count with the locale's thousands separator, e.g. "12 345"."""
    from babel.numbers import format_decimal

    from o2c_desktop.i18n import locale_for

    return format_decimal(n, locale=locale_for(language))


def offset_text(days: int) -> str:
    """A step's offset from the due date, e.g. "-15 jours" or "0 jour"."""
    return ngettext("{n} day", "{n} days", abs(days)).format(n=days)


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column of a `RowTableModel`.

    Attributes:
        title: English header, translated when shown.
        text: the display text of a row.
        amount: right-aligned numbers.
        check: a read-only check box instead of text.
        icon: the decoration of a row.
        tooltip: the tooltip of a row.
    """

    title: str
    text: Callable[[T, str], str] | None = None
    amount: bool = False
    check: Callable[[T], bool] | None = None
    icon: Callable[[T], Any] | None = None
    tooltip: Callable[[T], str | None] | None = None


class RowTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table of value objects, one per row, described by `columns`."""

    columns: ClassVar[Sequence[Column[Any]]] = ()

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []
        self.language = language

    def set_rows(self, rows: Sequence[T]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_value(self, row: int) -> T:
        """The value object shown on `row`."""
        return self._rows[row]

    def retranslate(self, language: str) -> None:
        """Show headers and values in `language`."""
        self.language = language
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(
            self.columns
        ):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return _(column.title)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if column.amount else LEFT)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        value = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(value, self.language) if column.text else None
        if role == Qt.ItemDataRole.CheckStateRole and column.check is not None:
            return (
                Qt.CheckState.Checked
                if column.check(value)
                else Qt.CheckState.Unchecked
            )
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.amount:
                return int(RIGHT)
            return int(CENTER) if column.check is not None else None
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(value)
        if role == ROW_ROLE:
            return value
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _money(amount: Decimal | None, currency: str | None, language: str) -> str:
    if amount is None or currency is None:
        return ""
    return format_money(amount, currency, language)


class CustomerTableModel(RowTableModel[CustomerRow]):
    """Customers with their amounts, loaded a page at a time as the view scrolls.

    Signals:
        rows_requested(int): the view wants rows from this offset on.
    """

    rows_requested = Signal(int)

    columns: ClassVar[Sequence[Column[CustomerRow]]] = (
        Column(N_("Reference"), lambda r, _l: r.reference),
        Column(
            N_("Name"),
            lambda r, _l: r.name,
            tooltip=lambda r: r.legal_id and f"SIREN {r.legal_id}",
        ),
        Column(N_("Portfolio"), lambda r, _l: r.portfolio or ""),
        Column(N_("Collector"), lambda r, _l: r.collector or ""),
        Column(
            N_("Outstanding"),
            lambda r, lang: format_money(r.outstanding, r.currency, lang),
            amount=True,
        ),
        Column(
            N_("Overdue"),
            lambda r, lang: format_money(r.overdue, r.currency, lang),
            amount=True,
        ),
        Column(N_("Days late"), lambda r, _l: days_text(r.days_late), amount=True),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self._total = 0
        self._waiting = False

    @property
    def total(self) -> int:
        """How many customers match, loaded or not."""
        return self._total

    def set_page(self, page: CustomerPage) -> None:
        """Start over with the first page of a new search."""
        self.beginResetModel()
        self._rows = list(page.rows)
        self._total = page.total
        self._waiting = False
        self.endResetModel()

    def append_page(self, page: CustomerPage) -> None:
        """Add the next page; a page for another offset (stale) is ignored."""
        self._waiting = False
        if page.offset != len(self._rows) or not page.rows:
            return
        first = len(self._rows)
        self.beginInsertRows(_ROOT, first, first + len(page.rows) - 1)
        self._rows.extend(page.rows)
        self._total = max(page.total, len(self._rows))
        self.endInsertRows()

    def page_failed(self) -> None:
        """Allow asking again after a failed load."""
        self._waiting = False

    def canFetchMore(self, parent: Index) -> bool:
        return (
            not parent.isValid() and not self._waiting and len(self._rows) < self._total
        )

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._waiting = True
            self.rows_requested.emit(len(self._rows))


class ScenarioTableModel(RowTableModel[ScenarioInfo]):
    """The list of scenarios."""

    columns: ClassVar[Sequence[Column[ScenarioInfo]]] = (
        Column(N_("Scenario"), lambda r, _l: r.name, tooltip=lambda r: r.description),
        Column(N_("Steps"), lambda r, _l: str(r.step_count), amount=True),
        Column(
            N_("Customers"),
            lambda r, lang: format_count(r.customer_count, lang),
            amount=True,
        ),
        Column(N_("Language"), lambda r, _l: r.default_language.upper()),
        Column(N_("Active"), check=lambda r: r.active),
    )


class StepTableModel(RowTableModel[StepInfo]):
    """The steps of a scenario, as in the seed's "Étapes scénario" table."""

    columns: ClassVar[Sequence[Column[StepInfo]]] = (
        Column(N_("Step"), lambda r, _l: r.name),
        Column(N_("Days"), lambda r, _l: offset_text(r.offset_days), amount=True),
        Column(
            N_("Action type"),
            lambda r, _l: action_type_label(r.action_type),
            icon=lambda r: icons.action_icon(r.action_type),
        ),
        Column(N_("Template"), lambda r, _l: r.template_code or ""),
        Column(N_("Processing"), lambda r, _l: mode_label(r.mode)),
        Column(N_("Statement of account"), check=lambda r: r.attach_statement),
        Column(N_("Interest and penalty statement"), check=lambda r: r.attach_interest),
    )


class AgingTableModel(RowTableModel[AgingLine]):
    """The aged balance: one row per bucket, then the total."""

    columns: ClassVar[Sequence[Column[AgingLine]]] = (
        Column(N_("Age"), lambda r, _l: _(r.bucket.label)),
        Column(N_("Amount"), amount=True),
        Column(N_("Items"), lambda r, lang: format_count(r.count, lang), amount=True),
        Column(N_("Share"), amount=True),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self._summary: BookSummary | None = None

    def set_summary(self, summary: BookSummary | None) -> None:
        """Show the aged balance of `summary` (None: empty)."""
        self.beginResetModel()
        self._summary = summary
        self._rows = list(summary.aging) if summary else []
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        if parent.isValid() or not self._rows:
            return 0
        return len(self._rows) + 1  # the total

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._summary is None:
            return None
        is_total = index.row() == len(self._rows)
        if role == Qt.ItemDataRole.FontRole and is_total:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(index.row(), index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(LEFT if index.column() == 0 else RIGHT)
        if role == ROW_ROLE and not is_total:
            return self._rows[index.row()]
        return None

    def _text(self, row: int, column: int) -> str:
        assert self._summary is not None
        summary = self._summary
        if row == len(self._rows):
            amount, count = summary.outstanding, summary.open_items
            label = _("Total")
        else:
            line = self._rows[row]
            amount, count, label = line.amount, line.count, _(line.bucket.label)
        if column == 0:
            return label
        if column == 1:
            return format_money(amount, summary.currency, self.language)
        if column == 2:
            return format_count(count, self.language)
        if not summary.outstanding:
            return ""
        from babel.numbers import format_percent

        from o2c_desktop.i18n import locale_for

        share = amount / summary.outstanding
        return format_percent(share, "#,##0.0 %", locale=locale_for(self.language))


class AgendaTreeModel(QAbstractItemModel):
    """A collector's agenda: days at the top level, their actions below.

    Late actions (planned before today) sit on top of today, marked late.
    """

    columns: ClassVar[Sequence[str]] = (
        N_("Action"),
        N_("Customer"),
        N_("Days late"),
        N_("Amount"),
        N_("Planned"),
        N_("Status"),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.language = language
        self._agenda: Agenda | None = None

    def set_agenda(self, agenda: Agenda | None) -> None:
        """Show `agenda` (None: empty)."""
        self.beginResetModel()
        self._agenda = agenda
        self.endResetModel()

    def entry(self, index: Index) -> AgendaEntry | None:
        """The action behind `index`, None on a day row."""
        if not index.isValid() or self._agenda is None or index.internalId() == 0:
            return None
        return self._agenda.days[index.internalId() - 1].entries[index.row()]

    def retranslate(self, language: str) -> None:
        """Show headers and values in `language`."""
        self.language = language
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        self.layoutChanged.emit()

    # Day rows have internal id 0; an action's id is its day's row + 1.
    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: Index = _ROOT) -> QModelIndex:  # type: ignore[override]  # Qt's overloaded parent()
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = _ROOT) -> int:
        if self._agenda is None:
            return 0
        if not parent.isValid():
            return len(self._agenda.days)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._agenda.days[parent.row()].entries)
        return 0

    def columnCount(self, parent: Index = _ROOT) -> int:
        return len(self.columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(
            self.columns
        ):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(self.columns[section])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if section in (2, 3) else LEFT)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._agenda is None:
            return None
        entry = self.entry(index)
        if entry is None:
            return self._day_data(index, role)
        return self._entry_data(entry, index.column(), role)

    def _day_data(self, index: Index, role: int) -> Any:
        assert self._agenda is not None
        day = self._agenda.days[index.row()]
        if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
            return day_title(
                day.day, self._agenda.today, len(day.entries), self.language
            )
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _entry_data(self, entry: AgendaEntry, column: int, role: int) -> Any:
        assert self._agenda is not None
        late = entry.is_late(self._agenda.today)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._entry_text(entry, column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == 0:
                return icons.action_icon(entry.action_type)
            if column == 4 and late:
                return icons.late_icon()
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if column in (2, 3) else LEFT)
        if role == Qt.ItemDataRole.ForegroundRole and late and column == 4:
            return QBrush(LATE_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and late:
                return _("Late: planned for an earlier day")
            if column == 1:
                return _("Customer reference: {ref}").format(
                    ref=entry.customer_reference
                )
            if column == 0 and entry.subject:
                return entry.subject
        if role == ROW_ROLE:
            return entry
        return None

    def _entry_text(self, entry: AgendaEntry, column: int) -> str:
        if column == 0:
            return action_type_label(entry.action_type)
        if column == 1:
            return entry.customer_name
        if column == 2:
            return days_text(entry.days_late)
        if column == 3:
            return _money(entry.amount, entry.currency, self.language)
        if column == 4:
            return format_date(entry.planned_date, self.language)
        return status_label(entry.status)


def day_title(day: dt.date, today: dt.date, count: int, language: str) -> str:
    """A day's heading in the agenda, e.g. "Aujourd'hui — mardi 24/03/2020 (12)"."""
    from babel.dates import format_date as babel_format_date

    from o2c_desktop.i18n import locale_for

    name = babel_format_date(day, format="EEEE", locale=locale_for(language))
    when = f"{name} {format_date(day, language)}"
    if day == today:
        when = _("Today — {day}").format(day=when)
    elif day == today + dt.timedelta(days=1):
        when = _("Tomorrow — {day}").format(day=when)
    return f"{when[0].upper()}{when[1:]} ({count})"
