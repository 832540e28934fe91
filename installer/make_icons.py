"""Render the application icon for each OS from one SVG (resources/icons/).

`.ico` for Windows (the programs, the installer, the shortcuts), `.icns` for
the macOS bundle, a 256 px PNG for the Linux .desktop entry. Qt renders the
SVG; both container formats are written here, so the build needs no other
tool and nothing is downloaded.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

if TYPE_CHECKING:
    from pathlib import Path

ICO_SIZES = (16, 24, 32, 48, 64, 256)
# ICNS types holding PNG data: 16, 32, 64, 128, 256, 512, 1024 px.
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128),
    (b"ic08", 256), (b"ic09", 512), (b"ic10", 1024),
)  # fmt: skip


def render(svg: Path, size: int) -> QImage:
    """The icon as a square ARGB image of `size` pixels."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """`image` encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; PySide6 wants str
    buffer.close()
    return bytes(data.data())


def _bmp_entry(image: QImage) -> bytes:
    # A classic DIB entry (every Windows tool reads it): BGRA rows bottom-up,
    # then an all-zero AND mask (the alpha channel does the masking).
    size = image.width()
    rows = []
    for y in range(size - 1, -1, -1):
        row = bytearray()
        for x in range(size):
            argb = image.pixel(x, y)
            row += struct.pack("<I", argb)  # little-endian ARGB32 = B, G, R, A
        rows.append(bytes(row))
    mask_row = ((size + 31) // 32) * 4
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    return header + b"".join(rows) + bytes(mask_row * size)


def write_ico(svg: Path, target: Path) -> Path:
    """A Windows icon: DIB entries up to 64 px, a PNG entry at 256 px."""
    entries = []
    for size in ICO_SIZES:
        image = render(svg, size)
        data = png_bytes(image) if size >= 256 else _bmp_entry(image)
        entries.append((size, data))
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = 6 + 16 * len(entries)
    directory = b""
    for size, data in entries:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        directory += struct.pack(
            "<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset
        )
        offset += len(data)
    target.write_bytes(header + directory + b"".join(d for _, d in entries))
    return target


def write_icns(svg: Path, target: Path) -> Path:
    """A macOS icon family of PNG entries."""
    body = b""
    for kind, size in ICNS_TYPES:
        data = png_bytes(render(svg, size))
        body += kind + struct.pack(">I", 8 + len(data)) + data
    target.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return target


def build(svg: Path, folder: Path) -> list[Path]:
    """Write o2c-desktop.{ico,icns,png} into `folder`; return the three paths."""
    argv = ["make_icons", "-platform", "offscreen"]
    _app = QGuiApplication.instance() or QGuiApplication(argv)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "o2c-desktop.png"
    png.write_bytes(png_bytes(render(svg, 256)))
    return [
        write_ico(svg, folder / "o2c-desktop.ico"),
        write_icns(svg, folder / "o2c-desktop.icns"),
        png,
    ]
