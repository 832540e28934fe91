"""`o2c-desktop FILE…`: what the desktop's "Open with O2C Desktop" runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from o2c_desktop.app import parse_args

if TYPE_CHECKING:
    from pathlib import Path


def test_the_files_the_desktop_passes_go_to_the_import(tmp_path: Path) -> None:
    workbook = tmp_path / "balance agée mars.xlsx"
    workbook.write_bytes(b"PK\x03\x04")
    csv = tmp_path / "export.csv"
    csv.write_text("customer;amount\n", encoding="utf-8")
    args = parse_args(["o2c-desktop", str(workbook), str(csv)])
    assert args.files == [workbook, csv]
    assert not args.self_test


def test_qt_options_and_missing_files_are_not_taken_for_files(tmp_path: Path) -> None:
    csv = tmp_path / "export.csv"
    csv.write_text("customer;amount\n", encoding="utf-8")
    args = parse_args(
        ["o2c-desktop", "-platform", "offscreen", str(tmp_path / "gone.xlsx"), str(csv)]
    )
    assert args.files == [csv]
