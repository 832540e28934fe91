"""Reading spreadsheet and CSV files into raw grids of cells.

Workbooks (xlsx, xlsm, xls, ods) are read with python-calamine, which returns
the cached value of formula cells. CSV files are decoded as UTF-8 (with or
without BOM) or Windows-1252, and their separator is sniffed.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd

log = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".tab"})
SEPARATORS = (";", ",", "\t", "|")
CSV_HEAD_ROWS = 2000  # rows read to find the table; the rest is read by column
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


class FileError(Exception):
    """The file can't be read at all; the message says why, for the user."""


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

    Raises:
        FileError: empty file, PDF, encrypted workbook, unknown format.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileError(f"{path.name}: cannot be opened ({exc.strerror}).") from exc
    if size == 0:
        raise FileError(f"{path.name}: the file is empty.")
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF"):
        raise FileError(
            f"{path.name}: this is a PDF document, not a spreadsheet. Export the "
            "aged balance from your ERP as Excel or CSV."
        )
    if head.startswith(_OLE) and _ENCRYPTED in path.read_bytes()[: 65536 * 8]:
        raise FileError(
            f"{path.name}: the workbook is password-protected. Open it in Excel, "
            "remove the password (File > Info > Protect Workbook) and save it again."
        )
    if head.startswith((b"PK", _OLE)):
        return "workbook"
    if suffix in WORKBOOK_SUFFIXES and suffix != ".xls":
        raise FileError(f"{path.name}: not a readable {suffix} workbook.")
    if b"\x00" in path.read_bytes()[:4096]:
        raise FileError(f"{path.name}: not a spreadsheet or CSV file.")
    return "csv"


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
        raise FileError(f"{path.name}: the workbook is password-protected.") from exc
    except Exception as exc:
        raise FileError(f"{path.name}: not a readable workbook ({exc}).") from exc
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
        raise FileError(f"{path.name}: a sheet can't be read ({exc}).") from exc
    finally:
        book.close()
    return sheets


def _encoding(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _separator(sample: str) -> str:
    """The separator giving the most lines with the same field count (> 1)."""
    lines = [line for line in sample.splitlines()[:200] if line.strip()]
    best, best_score = ",", -1
    for sep in SEPARATORS:
        counts = Counter(len(r) for r in csv.reader(lines, delimiter=sep))
        width, freq = counts.most_common(1)[0] if counts else (1, 0)
        score = freq * 1000 + width if width > 1 else 0
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv(path: Path, *, nrows: int | None = None) -> RawSheet:
    """A CSV file as a grid of text cells (`nrows` limits it for the preview).

    Raises:
        FileError: the file can't be decoded or parsed.
    """
    import pandas as pd

    encoding = _encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(256 * 1024)
    sep = _separator(sample)
    width = max(
        (len(r) for r in csv.reader(sample.splitlines()[:2000], delimiter=sep)),
        default=1,
    )
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
            width = max((len(r) for r in csv.reader(fh, delimiter=sep)), default=1)
        try:
            grid = pd.read_csv(path, names=list(range(width)), **kwargs)
        except (pd.errors.ParserError, ValueError) as exc:
            raise FileError(f"{path.name}: not a readable CSV file ({exc}).") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileError(f"{path.name}: not a readable CSV file ({exc}).") from exc
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
        raise FileError(f"{path.name}: the file has no data.")
    return sheets


def csv_text(rows: Sequence[Sequence[object]], sep: str = ";") -> str:
    """Rows as CSV text (tests and examples)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
