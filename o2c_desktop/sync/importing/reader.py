"""Reading spreadsheet and CSV files into raw grids of cells.

Workbooks (xlsx, xlsm, xls, ods) are read with python-calamine, which returns
the cached value of formula cells. CSV files are decoded as UTF-8 (with or
without BOM) or Windows-1252, and their separator is sniffed.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    import pandas as pd

log = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".tab"})
SEPARATORS = (";", ",", "\t", "|")
CSV_HEAD_ROWS = 2000  # rows read to find the table; the rest is read by column
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
# Streams of old Office files, and content types of zipped ones (#15: a
# renamed .docx said "File not found 'word/_rels/workbook.xml.rels'").
_OLE_DOCUMENTS = (
    ("WordDocument", "a Word document"),
    ("PowerPoint Document", "a PowerPoint presentation"),
)
# A formula cell with no cached value: <f> then an empty or no <v>.
_NO_VALUE = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(?:<v\s*/>)?</c>'
)
_XLS_STREAM = "Book".encode("utf-16-le")  # "Workbook" (BIFF8) or "Book" (BIFF5)
_ZIP_WORKBOOKS = (  # main parts only: a .docx may embed a workbook
    "spreadsheetml.sheet.main",
    "spreadsheetml.template.main",
    "ms-excel.sheet.",
    "ms-excel.template.",
    "opendocument.spreadsheet",
)
_ZIP_DOCUMENTS = (
    ("wordprocessingml", "a Word document"),
    ("presentationml", "a PowerPoint presentation"),
    ("opendocument.text", "an OpenDocument text document"),
    ("opendocument.presentation", "an OpenDocument presentation"),
    ("opendocument.graphics", "an OpenDocument drawing"),
    ("ms-visio", "a Visio drawing"),
    ("epub", "an e-book"),
)


class FileError(Exception):
    """The file can't be read at all; the message says why, for the user.

    Attributes:
        row: the line of the file at fault, when one is.
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


@dataclass
class RawSheet:
    """One sheet (or a CSV file) as a grid of raw cell values.

    Attributes:
        name: sheet name ("" for CSV).
        visible: False for hidden and very hidden sheets.
        grid: DataFrame of object cells, 0-based positions.
        first_row: spreadsheet row number (1-based) of grid row 0.
        first_col: 0-based column index of grid column 0.
        merged: merged ranges ((row0, col0), (row1, col1)), grid coordinates.
        encoding: CSV only.
        separator: CSV only.
        complete: False when only the first rows were read (CSV preview).
    """

    name: str
    visible: bool
    grid: pd.DataFrame
    first_row: int = 1
    first_col: int = 0
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    encoding: str = ""
    separator: str = ""
    complete: bool = True


def sniff_kind(path: Path) -> str:
    """Say "workbook" or "csv" from the bytes, refusing what neither is.

    Messages never repeat the file name: the caller prefixes it.

    Raises:
        FileError: missing or empty file, PDF, Word or other document,
            encrypted workbook, unknown format.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(65536 * 8)
    except FileNotFoundError as exc:
        raise FileError(f"file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise FileError(f"this is a folder, not a file: {path}") from exc
    except OSError as exc:
        raise FileError(f"cannot be opened ({exc.strerror}).") from exc
    if size == 0:
        raise FileError("the file is empty.")
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF"):
        raise FileError(
            "this is a PDF document, not a spreadsheet. Export the "
            "aged balance from your ERP as Excel or CSV."
        )
    if head.startswith(_OLE) and _ENCRYPTED in head:
        raise FileError(
            "the workbook is password-protected. Open it in Excel, "
            "remove the password (File > Info > Protect Workbook) and save it again."
        )
    if head.startswith(_OLE):
        for stream, what in _OLE_DOCUMENTS:
            if _XLS_STREAM not in head and stream.encode("utf-16-le") in head:
                raise FileError(f"this is {what}, not a workbook.")
        return "workbook"
    if head.startswith(b"PK"):
        _check_zip(path)
        return "workbook"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16(head[:4096]):
        return "csv"  # Excel's "Unicode text"
    if suffix in WORKBOOK_SUFFIXES and suffix != ".xls":
        raise FileError(f"not a readable {suffix} workbook.")
    if b"\x00" in head[:4096]:
        raise FileError("not a spreadsheet or CSV file.")
    return "csv"


def _check_zip(path: Path) -> None:
    """Refuse Office and OpenDocument files that are not workbooks.

    They are all zip files: their content types (OOXML) or their mimetype
    (OpenDocument) say what they hold.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
            elif "[Content_Types].xml" in names:
                kind = archive.read("[Content_Types].xml").decode("utf-8", "replace")
            else:
                raise FileError(
                    "this is a zip archive, not a workbook. Extract the "
                    "spreadsheet from it first."
                )
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError("the workbook is damaged (not a readable zip file).") from exc
    if any(marker in kind for marker in _ZIP_WORKBOOKS):
        return
    for marker, what in _ZIP_DOCUMENTS:
        if marker in kind:
            raise FileError(f"this is {what}, not a workbook.")
    raise FileError("this zip file is not a workbook.")


def _utf16(head: bytes) -> bool:
    """UTF-16 text without a byte order mark: every other byte is zero."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    half = len(head) // 2
    return (odd.count(0) > 0.9 * half and even.count(0) == 0) or (
        even.count(0) > 0.9 * half and odd.count(0) == 0
    )


def read_workbook(path: Path) -> list[RawSheet]:
    """Every sheet of a workbook, with cached values of formula cells.

    Raises:
        FileError: the workbook is damaged or protected.
    """
    import pandas as pd
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise FileError("the workbook is password-protected.") from exc
    except Exception as exc:
        raise FileError(f"not a readable workbook ({exc}).") from exc
    sheets = []
    try:
        for meta in book.sheets_metadata:
            if str(meta.typ) != str(python_calamine.SheetTypeEnum.WorkSheet):
                continue
            sheet = book.get_sheet_by_name(meta.name)
            rows: Sequence[Sequence[Any]] = sheet.to_python(skip_empty_area=True)
            start = sheet.start or (0, 0)
            merged = [
                ((r0 - start[0], c0 - start[1]), (r1 - start[0], c1 - start[1]))
                for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
            ]
            sheets.append(
                RawSheet(
                    name=meta.name,
                    visible=str(meta.visible)
                    == str(python_calamine.SheetVisibleEnum.Visible),
                    grid=pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(),
                    first_row=start[0] + 1,
                    first_col=start[1],
                    merged=merged,
                )
            )
    except Exception as exc:
        raise FileError(f"a sheet can't be read ({exc}).") from exc
    finally:
        book.close()
    return sheets


def uncached_formulas(path: Path, sheet: str) -> dict[int, set[int]]:
    """Formula cells saved without a computed value, by column.

    Files written by programs (not Excel) often hold formulas and no result;
    a reader sees an empty cell. Only xlsx/xlsm files can tell.

    Returns:
        0-based sheet column -> 1-based sheet rows (empty when unknown).
    """
    out: dict[int, set[int]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return out
            xml = archive.read(part)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError):
        return out
    for letters, row in _NO_VALUE.findall(xml):
        col = 0
        for ch in letters:
            col = col * 26 + ch - 64
        out.setdefault(col - 1, set()).add(int(row))
    return out


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the sheet named `sheet`."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    rid = next(
        (
            el.get(f"{{{ns['r']}}}id")
            for el in book.iterfind("m:sheets/m:sheet", ns)
            if el.get("name") == sheet
        ),
        None,
    )
    for rel in rels.iterfind("p:Relationship", ns):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _encoding(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text": the BOM gives the byte order
    if _utf16(raw[:4096]):
        return "utf-16-le" if raw[1] == 0 else "utf-16-be"
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _line_width(line: str, sep: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=sep), []))
    except csv.Error:  # a huge field: _widths() names its row
        return 0


def _separator(sample: str) -> str:
    """The separator giving the most lines with the same field count (> 1).

    Lines are parsed one by one, so that one unbalanced quote spoils its
    line only, not every line below it.
    """
    lines = [line for line in sample.splitlines()[:200] if line.strip()]
    best, best_score = ",", -1
    for sep in SEPARATORS:
        counts = Counter(_line_width(line, sep) for line in lines)
        width, freq = counts.most_common(1)[0] if counts else (1, 0)
        score = freq * 1000 + width if width > 1 else 0
        if score > best_score:
            best, best_score = sep, score
    return best


def _widths(
    lines: Iterable[str], sep: str, *, max_lines: int | None = None, whole: bool = True
) -> int:
    """The widest record, after checking the quotes.

    Args:
        lines: the text, line by line (line ends kept).
        sep: the separator.
        max_lines: stop after this many lines.
        whole: `lines` is the whole file (else its last record may be cut).

    Raises:
        FileError: naming the row where a quote is left open or a cell is
            too long for a CSV reader.
    """
    reader = csv.reader(lines, delimiter=sep)
    records: list[tuple[int, int, int]] = []  # first line, last line, width
    start = 1
    try:
        for record in reader:
            records.append((start, reader.line_num, len(record)))
            start = reader.line_num + 1
            if max_lines is not None and reader.line_num >= max_lines:
                whole = False
                break
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise FileError(
                f"a cell is longer than {csv.field_size_limit() // 1024} KB. Is a "
                'quote (") left open on this row?',
                start,
            ) from exc
        raise FileError(f"not readable as CSV ({exc}).", start) from exc
    if not records:
        return 1
    usual = Counter(w for _s, _e, w in records).most_common(1)[0][0]
    checked = records if whole else records[:-1]
    for first, last, width in checked:
        if last > first and width != usual:
            raise FileError(
                'a quote (") opened on this row is not closed, so the rows below '
                "it would be read as one cell. Fix the row and save the file again.",
                first,
            )
    return max(w for _s, _e, w in records)


def read_csv(path: Path, *, nrows: int | None = None) -> RawSheet:
    """A CSV file as a grid of text cells (`nrows` limits it for the preview).

    Raises:
        FileError: the file can't be decoded or parsed.
    """
    import pandas as pd

    encoding = _encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(256 * 1024)
        whole = not fh.read(1)
    sep = _separator(sample)
    width = _widths(io.StringIO(sample, newline=""), sep, max_lines=2000, whole=whole)
    kwargs: dict[str, Any] = {
        "sep": sep,
        "header": None,
        "dtype": object,
        "keep_default_na": False,
        "na_filter": False,
        "encoding": encoding,
        "encoding_errors": "replace",
        "skip_blank_lines": False,
        "engine": "c",
        "nrows": nrows,
    }
    try:
        grid = pd.read_csv(path, names=list(range(width)), **kwargs)
    except pd.errors.ParserError:
        # A line wider than the sample: count the widest line, then read again.
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            width = _widths(fh, sep)
        try:
            grid = pd.read_csv(path, names=list(range(width)), **kwargs)
        except (pd.errors.ParserError, ValueError) as exc:
            raise FileError(f"not a readable CSV file ({exc}).") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileError(f"not a readable CSV file ({exc}).") from exc
    return RawSheet(
        name="",
        visible=True,
        grid=grid,
        encoding=encoding,
        separator=sep,
        complete=nrows is None or len(grid) < nrows,
    )


def read_csv_columns(
    path: Path, head: RawSheet, skip: int, columns: Sequence[int] | None
) -> pd.DataFrame:
    """The rows of a CSV file after its first `skip`, only `columns` (None: all).

    Columns are "str" columns labelled by their 0-based index. pyarrow reads a
    well-formed file in parallel, without a Python object per cell; a file it
    refuses (ragged or blank lines, bad bytes) is read again by pandas, so row
    numbers always match the file's lines.

    Raises:
        FileError: the file can't be decoded or parsed.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    width = head.grid.shape[1]
    wanted = sorted({c for c in columns if c < width}) if columns is not None else None
    keep = list(range(width)) if wanted is None else wanted
    names = [str(c) for c in range(width)]
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=names,
                skip_rows=skip,
                encoding="utf8" if head.encoding.startswith("utf-8") else head.encoding,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=head.separator,
                ignore_empty_lines=False,
                newlines_in_values=True,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={str(c): pa.string() for c in keep},
                include_columns=[str(c) for c in keep],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        log.info("pyarrow can't read %s (%s); reading it with pandas", path.name, exc)
        grid = read_csv(path).grid.iloc[skip:]
        return grid if wanted is None else grid[list(wanted)]
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): str_dtype}.get)
    frame.columns = pd.Index(keep)
    return frame


def read_sheets(path: Path, *, csv_rows: int | None = None) -> list[RawSheet]:
    """All sheets of `path` (one for a CSV file).

    Raises:
        FileError: the file is empty, not a spreadsheet, protected or damaged.
    """
    kind = sniff_kind(path)
    sheets = (
        read_workbook(path) if kind == "workbook" else [read_csv(path, nrows=csv_rows)]
    )
    if not any(len(s.grid) for s in sheets):
        raise FileError("the file has no data.")
    return sheets


def csv_text(rows: Sequence[Sequence[object]], sep: str = ";") -> str:
    """Rows as CSV text (tests and examples)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
