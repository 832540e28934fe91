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
    UserInfo,
)
from o2c_desktop.engine.types import ActionStatus
from o2c_desktop.engine.workbench import (
    ALERT_LABELS,
    AgendaLine,
    ContactInfo,
    DocumentInfo,
    ItemRow,
    ItemSort,
    TimelineEntry,
)
from o2c_desktop.i18n import N_, _, format_date, format_money, ngettext
from o2c_desktop.ui import icons
from o2c_desktop.ui.labels import (
    action_type_label,
    mode_label,
    role_label,
    status_label,
    template_label,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from o2c_desktop.engine.book import Agenda, BookSummary
    from o2c_desktop.engine.desk import PortfolioInfo, Team, TeamMember
    from o2c_desktop.engine.workbench import Alert, ItemPage, TimelinePage

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
        Column(N_("Template"), lambda r, _l: template_label(r.template_code)),
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


# --- the collector's workbench (issue 7) ---------------------------------------


def _alerts_text(alerts: Sequence[Alert]) -> str | None:
    if not alerts:
        return None
    lines = []
    for alert in alerts:
        label = _(ALERT_LABELS[alert.kind])
        lines.append(f"{label} : {alert.detail}" if alert.detail else label)
    return "\n".join(lines)


def late_text(days: int | None) -> str:
    """Days late as the agenda shows them, e.g. "738 jours de retard"."""
    if days is None:
        return ""
    return ngettext("{n} day late", "{n} days late", days).format(n=days)


def dso_text(days: int | None) -> str:
    """A customer's DSO, e.g. "104 jours DSO"."""
    if days is None:
        return ""
    return ngettext("{n} day DSO", "{n} days DSO", days).format(n=days)


class AgendaLineTableModel(RowTableModel[AgendaLine]):
    """The actions of one day column: type and customer, days late, DSO, amount.

    Late lines (planned for an earlier day) are written in red.
    """

    columns: ClassVar[Sequence[Column[AgendaLine]]] = (
        Column(
            N_("Customer"),
            lambda r, _l: r.customer_name,
            icon=lambda r: icons.action_icon(r.action_type),
        ),
        Column(N_("Days late"), lambda r, _l: late_text(r.days_late), amount=True),
        Column(N_("DSO"), lambda r, _l: dso_text(r.dso), amount=True),
        Column(
            N_("Amount at stake"),
            lambda r, lang: _money(r.amount, r.currency, lang),
            amount=True,
        ),
        Column(
            N_("Alert"),
            icon=lambda r: icons.alert_icon() if r.alerts else None,
            tooltip=lambda r: _alerts_text(r.alerts),
        ),
    )

    def __init__(
        self,
        today: dt.date | None = None,
        language: str = "fr",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(language, parent)
        self.today = today

    def set_lines(self, lines: Sequence[AgendaLine], today: dt.date) -> None:
        """Show `lines` as of `today`."""
        self.today = today
        self.set_rows(lines)

    def row_of(self, action_id: str) -> int | None:
        """The row showing `action_id`, None when it is not here."""
        for row, line in enumerate(self._rows):
            if line.action_id == action_id:
                return row
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        line = self._rows[index.row()]
        late = self.today is not None and line.is_late(self.today)
        if role == Qt.ItemDataRole.ForegroundRole and late and index.column() < 2:
            return QBrush(LATE_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            parts = [
                action_type_label(line.action_type),
                _("Customer reference: {ref}").format(ref=line.customer_reference),
            ]
            if line.subject:
                parts.append(line.subject)
            if late:
                parts.append(
                    _("Late: planned for {day}").format(
                        day=format_date(line.planned_date, self.language)
                    )
                )
            return "\n".join(parts)
        if role == Qt.ItemDataRole.AccessibleTextRole and index.column() == 4:
            return _alerts_text(line.alerts) or ""
        return super().data(index, role)


class ConfirmTableModel(RowTableModel[AgendaLine]):
    """Automatic actions waiting for a confirmation, each with a check box."""

    columns: ClassVar[Sequence[Column[AgendaLine]]] = (
        Column(
            N_("Customer"),
            lambda r, _l: r.customer_name,
            icon=lambda r: icons.action_icon(r.action_type),
        ),
        Column(
            N_("Action"), lambda r, _l: r.subject or action_type_label(r.action_type)
        ),
        Column(N_("Planned"), lambda r, lang: format_date(r.planned_date, lang)),
        Column(N_("Days late"), lambda r, _l: late_text(r.days_late), amount=True),
        Column(
            N_("Amount"),
            lambda r, lang: _money(r.amount, r.currency, lang),
            amount=True,
        ),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self._checked: set[str] = set()

    def set_rows(self, rows: Sequence[AgendaLine]) -> None:
        """Replace the rows; checks of actions still shown are kept."""
        ids = {r.action_id for r in rows}
        self._checked &= ids
        super().set_rows(rows)

    def checked(self) -> list[str]:
        """Ids of the checked actions, in row order."""
        return [r.action_id for r in self._rows if r.action_id in self._checked]

    def set_all_checked(self, checked: bool) -> None:
        """Check or uncheck every row."""
        self._checked = {r.action_id for r in self._rows} if checked else set()
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(len(self._rows) - 1, 0),
                [Qt.ItemDataRole.CheckStateRole],
            )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.CheckStateRole
            and index.isValid()
            and index.column() == 0
            and index.row() < len(self._rows)
        ):
            checked = self._rows[index.row()].action_id in self._checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        return super().data(index, role)

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or not index.isValid()
            or index.column() != 0
        ):
            return False
        action_id = self._rows[index.row()].action_id
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self._checked.add(action_id)
        else:
            self._checked.discard(action_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


_ITEM_SORTS = (
    ItemSort.NUMBER,
    ItemSort.AMOUNT,
    ItemSort.CURRENCY,
    ItemSort.ISSUE_DATE,
    ItemSort.DUE_DATE,
    ItemSort.DAYS_LATE,
    ItemSort.DUNNING_STATUS,
    ItemSort.STATUS_DATE,
    ItemSort.PAID,
    ItemSort.REMAINING,
)


def _item_status(r: ItemRow) -> str:
    if r.in_litigation:
        return _("In litigation")
    if r.disputed:
        return _("Disputed")
    return r.dunning_status or ""


class ItemTableModel(RowTableModel[ItemRow]):
    """A page of invoices or open items; sorting asks the service for a new page.

    Signals:
        sort_requested(object, bool): the `ItemSort` and whether descending.
    """

    sort_requested = Signal(object, bool)

    columns: ClassVar[Sequence[Column[ItemRow]]] = (
        Column(
            N_("No."),
            lambda r, _l: r.number,
            icon=lambda r: icons.icon("pdf") if r.has_pdf else None,
            tooltip=lambda r: (
                _("Has a PDF: Enter or a double click opens it") if r.has_pdf else None
            ),
        ),
        Column(
            N_("Amount incl. tax"),
            lambda r, lang: format_money(r.amount, r.currency, lang),
            amount=True,
        ),
        Column(N_("Currency"), lambda r, _l: r.currency),
        Column(N_("Invoice date"), lambda r, lang: format_date(r.issue_date, lang)),
        Column(N_("Due date"), lambda r, lang: format_date(r.due_date, lang)),
        Column(
            N_("Days late"),
            lambda r, _l: "" if r.days_late is None else str(r.days_late),
            amount=True,
        ),
        Column(N_("Dunning status"), lambda r, _l: _item_status(r)),
        Column(
            N_("Status date"),
            lambda r, lang: format_date(r.status_date, lang) if r.status_date else "",
        ),
        Column(
            N_("Paid"),
            lambda r, lang: format_money(r.paid, r.currency, lang),
            amount=True,
        ),
        Column(
            N_("Remaining"),
            lambda r, lang: format_money(r.remaining, r.currency, lang),
            amount=True,
        ),
        # Last: the sorts above map to columns by position (#21).
        Column(
            N_("Expected payment"),
            lambda r, lang: (
                format_date(r.expected_pay_date, lang) if r.expected_pay_date else ""
            ),
        ),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self.total = 0

    def set_page(self, page: ItemPage) -> None:
        """Show one page of items."""
        self.total = page.total
        self.set_rows(page.rows)

    def sort(
        self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder
    ) -> None:
        if 0 <= column < len(_ITEM_SORTS):
            self.sort_requested.emit(
                _ITEM_SORTS[column], order == Qt.SortOrder.DescendingOrder
            )


def timeline_status(r: TimelineEntry, language: str) -> str:
    """The status: pending and assigned to whom, or done when and by whom."""
    if r.status == ActionStatus.DONE:
        day = format_date(r.performed_on or r.day, language)
        who = r.performer or _("automatic")
        return _("Done on {day} by {who}").format(day=day, who=who)
    if r.status in (ActionStatus.PENDING, ActionStatus.TO_CONFIRM):
        return _("Pending, assigned to {who}").format(who=r.assignee or "-")
    return status_label(r.status)


def _timeline_tooltip(r: TimelineEntry, lang: str) -> str:
    parts = [
        r.subject or action_type_label(r.action_type),
        timeline_status(r, lang),
        _("Created on {day}").format(day=format_date(r.created_on, lang)),
    ]
    if r.contact:
        parts.append(_("Customer contact: {name}").format(name=r.contact))
    if r.items:
        parts.append(_("Items: {numbers}").format(numbers=_items_text(r)))
    if r.comment:
        parts.append(r.comment)
    return "\n".join(parts)


def _items_text(r: TimelineEntry) -> str:
    text = ", ".join(r.items)
    if r.item_count > len(r.items):
        text += " " + _("(+{n})").format(n=r.item_count - len(r.items))
    return text


class TimelineTableModel(RowTableModel[TimelineEntry]):
    """One tab of the timeline, newest first; a row's tooltip tells it all."""

    columns: ClassVar[Sequence[Column[TimelineEntry]]] = (
        Column(N_("Date"), lambda r, lang: format_date(r.day, lang)),
        Column(
            N_("Type"),
            lambda r, _l: action_type_label(r.action_type),
            icon=lambda r: icons.action_icon(r.action_type),
        ),
        Column(N_("Subject"), lambda r, _l: r.subject or ""),
        Column(N_("Status"), timeline_status),
        Column(N_("By"), lambda r, _l: r.by or _("automatic")),
        Column(N_("Created on"), lambda r, lang: format_date(r.created_on, lang)),
        Column(N_("Customer contact"), lambda r, _l: r.contact or ""),
        Column(N_("Items"), lambda r, _l: _items_text(r)),
        Column(
            N_("Documents"),
            lambda r, _l: ", ".join(d.filename for d in r.documents),
        ),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self.total = 0

    def set_page(self, page: TimelinePage) -> None:
        """Show one page of the timeline."""
        self.total = page.total
        self.set_rows(page.entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ToolTipRole
            and index.isValid()
            and index.row() < len(self._rows)
        ):
            return _timeline_tooltip(self._rows[index.row()], self.language)
        return super().data(index, role)


class ContactTableModel(RowTableModel[ContactInfo]):
    """The customer's contacts, the dunning contact first."""

    columns: ClassVar[Sequence[Column[ContactInfo]]] = (
        Column(N_("Name"), lambda r, _l: r.name),
        Column(N_("Function"), lambda r, _l: r.function or r.role or ""),
        Column(N_("Language"), lambda r, _l: (r.language or "").upper()),
        Column(N_("Phone"), lambda r, _l: r.phone or r.mobile or ""),
        Column(N_("Email"), lambda r, _l: r.email or ""),
        Column(N_("Dunning contact"), check=lambda r: r.is_dunning_contact),
    )


class DocumentTableModel(RowTableModel[DocumentInfo]):
    """Stored files of the customer and of its actions."""

    columns: ClassVar[Sequence[Column[DocumentInfo]]] = (
        Column(N_("File"), lambda r, _l: r.filename),
        Column(N_("Kind"), lambda r, _l: r.kind.value),
        Column(
            N_("Created on"), lambda r, lang: format_date(r.created_at.date(), lang)
        ),
    )


class UserCheckModel(RowTableModel[UserInfo]):
    """Colleagues to notify, each with a check box."""

    columns: ClassVar[Sequence[Column[UserInfo]]] = (
        Column(N_("Colleague"), lambda r, _l: r.full_name),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(language, parent)
        self._checked: set[str] = set()

    def checked(self) -> list[str]:
        """Logins of the checked users, in row order."""
        return [u.login for u in self._rows if u.login in self._checked]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.CheckStateRole
            and index.isValid()
            and index.row() < len(self._rows)
        ):
            login = self._rows[index.row()].login
            return (
                Qt.CheckState.Checked
                if login in self._checked
                else Qt.CheckState.Unchecked
            )
        return super().data(index, role)

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        login = self._rows[index.row()].login
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self._checked.add(login)
        else:
            self._checked.discard(login)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid():
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


# -- the credit manager's desk (issue #8) ------------------------------------


def cell_text(value: object, language: str, currency: str) -> str:
    """A dashboard cell as text: money, shares, dates, periods, codes in the locale."""
    from decimal import Decimal as _Decimal

    from o2c_desktop.engine.analytics import Percent
    from o2c_desktop.engine.types import ActionType
    from o2c_desktop.i18n import format_number, format_period, format_share

    if value is None:
        return "\u2014"
    if isinstance(value, Percent):
        return format_share(value.value, language)
    if isinstance(value, _Decimal):
        places = -int(value.as_tuple().exponent)
        if places == 2:
            return format_money(value, currency, language)
        return format_number(value, language, max(places, 0))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int):
        return format_count(value, language)
    if isinstance(value, dt.date):
        return format_date(value, language)
    if isinstance(value, ActionType):
        return action_type_label(value)
    return format_period(str(value), language) if value else ""


class DashboardTableModel(QAbstractTableModel):
    """The table behind a dashboard (or a drill-down list): rows of cells."""

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.language = language
        self._columns: tuple[str, ...] = ()
        self._rows: tuple[tuple[Any, ...], ...] = ()
        self._currency = "EUR"

    def set_table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        currency: str = "EUR",
    ) -> None:
        """Replace the whole table."""
        self.beginResetModel()
        self._columns = tuple(columns)
        self._rows = tuple(tuple(r) for r in rows)
        self._currency = currency
        self.endResetModel()

    def rows(self) -> tuple[tuple[Any, ...], ...]:
        """The raw cells (for export)."""
        return self._rows

    def columns(self) -> tuple[str, ...]:
        """The English column titles."""
        return self._columns

    def retranslate(self, language: str) -> None:
        """Show headers and values in `language`."""
        self.language = language
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(
            self._columns
        ):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(self._columns[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if index.column() >= len(row):
            return None
        value = row[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(value, self.language, self._currency)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            numeric = (
                isinstance(value, int | float) or type(value).__name__ == "Decimal"
            )
            return int(RIGHT if numeric else LEFT)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class StepEditTableModel(QAbstractTableModel):
    """The steps of the scenario being edited, editable in place.

    Signals:
        steps_edited(): a cell changed, a step was added or removed.
    """

    steps_edited = Signal()

    titles: ClassVar[Sequence[str]] = (
        N_("Step"),
        N_("Days"),
        N_("Action type"),
        N_("Template"),
        N_("Processing"),
        N_("Statement of account"),
        N_("Interest and penalty statement"),
    )

    def __init__(self, language: str = "fr", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.language = language
        self._steps: list[Any] = []

    def set_steps(self, steps: Sequence[Any]) -> None:
        """Replace every step (ordered by offset)."""
        self.beginResetModel()
        self._steps = sorted(steps, key=lambda s: s.offset_days)
        self.endResetModel()

    def steps(self) -> tuple[Any, ...]:
        """The steps as edited."""
        return tuple(self._steps)

    def step(self, row: int) -> Any:
        """The step on `row`."""
        return self._steps[row]

    def add_step(self, step: Any) -> int:
        """Add a step; return its row."""
        self.beginResetModel()
        self._steps.append(step)
        self._steps.sort(key=lambda s: s.offset_days)
        row = self._steps.index(step)
        self.endResetModel()
        self.steps_edited.emit()
        return row

    def remove_rows(self, rows: Sequence[int]) -> None:
        """Delete the steps on `rows`."""
        self.beginResetModel()
        for row in sorted(set(rows), reverse=True):
            del self._steps[row]
        self.endResetModel()
        self.steps_edited.emit()

    def reorder(self) -> None:
        """Sort the steps by offset (after offsets were edited)."""
        self.layoutAboutToBeChanged.emit()
        self._steps.sort(key=lambda s: s.offset_days)
        self.layoutChanged.emit()

    def retranslate(self, language: str) -> None:
        """Show headers and values in `language`."""
        self.language = language
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._steps)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.titles)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.titles)
        ):
            return _(self.titles[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._steps):
            return None
        st = self._steps[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            edit = role == Qt.ItemDataRole.EditRole
            if col == 0:
                return st.name
            if col == 1:
                return st.offset_days if edit else offset_text(st.offset_days)
            if col == 2:
                return (
                    st.action_type.value if edit else action_type_label(st.action_type)
                )
            if col == 3:
                code = st.template_code or ""
                return code if edit else template_label(code)
            if col == 4:
                return st.mode.value if edit else mode_label(st.mode)
            return None
        if role == Qt.ItemDataRole.CheckStateRole and col in (5, 6):
            on = st.attach_statement if col == 5 else st.attach_interest
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 2:
            return icons.action_icon(st.action_type)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(RIGHT)
        return None

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        import dataclasses

        from o2c_desktop.engine.types import ActionType, StepMode

        if not index.isValid() or index.row() >= len(self._steps):
            return False
        st = self._steps[index.row()]
        col = index.column()
        try:
            if role == Qt.ItemDataRole.CheckStateRole and col in (5, 6):
                checked = Qt.CheckState(value) == Qt.CheckState.Checked
                name = "attach_statement" if col == 5 else "attach_interest"
                new = dataclasses.replace(st, **{name: checked})
            elif role != Qt.ItemDataRole.EditRole:
                return False
            elif col == 0:
                new = dataclasses.replace(st, name=str(value))
            elif col == 1:
                new = dataclasses.replace(st, offset_days=int(value))
            elif col == 2:
                new = dataclasses.replace(st, action_type=ActionType(value))
            elif col == 3:
                new = dataclasses.replace(st, template_code=str(value) or None)
            elif col == 4:
                new = dataclasses.replace(st, mode=StepMode(value))
            else:
                return False
        except ValueError:
            return False
        self._steps[index.row()] = new
        self.dataChanged.emit(index, index)
        self.steps_edited.emit()
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (5, 6):
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable


# -- team and portfolios (issue #8) ------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    """A team member with the name of their replacement, as the table shows it."""

    member: TeamMember
    replacement: str = ""


@dataclass(frozen=True)
class PortfolioLine:
    """A portfolio with the names of its entity and collector."""

    portfolio: PortfolioInfo
    entity: str = ""
    collector: str = ""


def absence_text(member: TeamMember, language: str) -> str:
    """An absence as a period, e.g. "01/04/2026 → 15/04/2026" or "from 01/04/2026"."""
    if member.absent_from is None:
        return ""
    start = format_date(member.absent_from, language)
    if member.absent_until is None:
        return _("from {day}").format(day=start)
    return f"{start} \u2192 {format_date(member.absent_until, language)}"


class TeamMemberTableModel(RowTableModel[MemberLine]):
    """Users: role, state, absence with replacement, waiting actions."""

    columns: ClassVar[Sequence[Column[MemberLine]]] = (
        Column(N_("Name"), lambda r, _l: r.member.full_name),
        Column(N_("Login"), lambda r, _l: r.member.login),
        Column(N_("Role"), lambda r, _l: role_label(r.member.role)),
        Column(N_("Active"), check=lambda r: r.member.active),
        Column(N_("Absence"), lambda r, lang: absence_text(r.member, lang)),
        Column(N_("Replacement"), lambda r, _l: r.replacement),
        Column(
            N_("Waiting actions"),
            lambda r, lang: format_count(r.member.pending_actions, lang),
            amount=True,
        ),
    )

    def set_team(self, team: Team | None) -> None:
        """Show the users of `team` (None: nothing)."""
        if team is None:
            self.set_rows(())
            return
        names = {m.id: m.full_name for m in team.members}
        self.set_rows(
            [
                MemberLine(
                    m,
                    names.get(m.replacement_id, "")
                    if m.replacement_id is not None
                    else "",
                )
                for m in team.members
            ]
        )

    def row_of(self, user_id: int) -> int | None:
        """The row showing user `user_id`, if any."""
        return next(
            (i for i, r in enumerate(self._rows) if r.member.id == user_id), None
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.row() < len(self._rows)
            and not self._rows[index.row()].member.active
        ):
            return QBrush(QColor("#78909c"))  # deactivated users are greyed out
        return super().data(index, role)


class PortfolioTableModel(RowTableModel[PortfolioLine]):
    """Portfolios with their entity, collector and customer count."""

    columns: ClassVar[Sequence[Column[PortfolioLine]]] = (
        Column(
            N_("Portfolio"), lambda r, _l: f"{r.portfolio.code} - {r.portfolio.name}"
        ),
        Column(N_("Entity"), lambda r, _l: r.entity),
        Column(N_("Collector"), lambda r, _l: r.collector),
        Column(
            N_("Customers"),
            lambda r, lang: format_count(r.portfolio.customers, lang),
            amount=True,
        ),
    )

    def set_team(self, team: Team | None) -> None:
        """Show the portfolios of `team` (None: nothing)."""
        if team is None:
            self.set_rows(())
            return
        names = {m.id: m.full_name for m in team.members}
        entities = {e.id: e.code for e in team.entities}
        self.set_rows(
            [
                PortfolioLine(
                    p,
                    entities.get(p.entity_id, "") if p.entity_id is not None else "",
                    names.get(p.collector_id, "") if p.collector_id is not None else "",
                )
                for p in team.portfolios
            ]
        )
