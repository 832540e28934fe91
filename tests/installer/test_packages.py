"""The installers: makensis builds one, the Linux tarball installs and uninstalls."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tarfile
from typing import TYPE_CHECKING

import pytest

from tests.installer.conftest import BUILT, INSTALLER, ROOT, load

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

    from PySide6.QtWidgets import QApplication

SVG = ROOT / "resources" / "icons" / "o2c-desktop.svg"
NSI = INSTALLER / "windows" / "o2c-desktop.nsi"


@pytest.fixture(scope="module")
def icons(qapp: QApplication, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The icons the spec renders, in a folder of their own.

    With pytest-qt's application up first, make_icons makes no QGuiApplication
    of its own (the UI tests in this worker need a QApplication).
    """
    folder = tmp_path_factory.mktemp("icons")
    load(INSTALLER / "make_icons.py").build(SVG, folder)
    return folder


def test_the_windows_icon_holds_every_size_explorer_asks_for(icons: Path) -> None:
    data = (icons / "o2c-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, 6)
    sizes = [data[6 + 16 * i] or 256 for i in range(count)]
    assert sizes == [16, 24, 32, 48, 64, 256]
    icns = (icons / "o2c-desktop.icns").read_bytes()
    assert icns[:4] == b"icns"
    assert struct.unpack_from(">I", icns, 4)[0] == len(icns)
    assert (icons / "o2c-desktop.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def windows_layout(folder: Path, layout: ModuleType, icons: Path) -> Path:
    """A bundle folder shaped as on Windows (the programs named .exe)."""
    dist = folder / "o2c-desktop"
    resources = dist / layout.INTERNAL / layout.RESOURCES
    (resources / "icons").mkdir(parents=True)
    shutil.copy(icons / "o2c-desktop.ico", resources / "icons")
    (resources / "templates").mkdir()
    (resources / "templates" / "README").write_text("letters", encoding="utf-8")
    for program in (layout.GUI_EXE, layout.CLI_EXE):
        (dist / f"{program}.exe").write_bytes(b"MZ" + bytes(200))
    return dist


@pytest.mark.skipif(shutil.which("makensis") is None, reason="needs makensis (nsis)")
def test_makensis_builds_the_installer_from_a_windows_layout(
    tmp_path: Path, layout: ModuleType, icons: Path
) -> None:
    dist = windows_layout(tmp_path, layout, icons)
    out = tmp_path / "O2C-Desktop-9.8.7-installer.exe"
    done = subprocess.run(
        ["makensis", "-V2", "-WX", "-DFAST", "-DVERSION=9.8.7", f"-DDIST_DIR={dist}",
         f"-DOUT_FILE={out}", str(NSI)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:2] == b"MZ"


@pytest.mark.skipif(shutil.which("makensis") is None, reason="needs makensis (nsis)")
def test_makensis_refuses_a_layout_without_the_programs(
    tmp_path: Path, layout: ModuleType, icons: Path
) -> None:
    dist = windows_layout(tmp_path, layout, icons)
    (dist / "o2c.exe").unlink()
    done = subprocess.run(
        ["makensis", "-V2", "-DFAST", "-DVERSION=9.8.7", f"-DDIST_DIR={dist}",
         f"-DOUT_FILE={tmp_path / 'x.exe'}", str(NSI)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "o2c.exe" in done.stdout + done.stderr


def test_the_linux_tarball_installs_for_the_user_and_keeps_the_books_on_removal(
    tmp_path: Path, dev: ModuleType, icons: Path
) -> None:
    bundle = tmp_path / "build" / "o2c-desktop"
    (bundle / "_internal").mkdir(parents=True)
    program = bundle / "o2c-desktop"
    program.write_text("#!/bin/sh\necho 'O2C Desktop' \"$@\"\n", encoding="utf-8")
    program.chmod(0o755)
    shutil.copy(program, bundle / "o2c")
    tarball = dev.linux_tarball(bundle, "9.8.7", dist=tmp_path, icons=icons)
    assert tarball.name == f"o2c-desktop-9.8.7-linux-{os.uname().machine}.tar.gz"
    with tarfile.open(tarball) as tar:
        top = tarball.name.removesuffix(".tar.gz")
        names = set(tar.getnames())
        tar.extractall(tmp_path / "unpacked", filter="tar")
    assert {
        f"{top}/install.sh",
        f"{top}/o2c-desktop/o2c-desktop",
        f"{top}/o2c-desktop/o2c",
        f"{top}/share/applications/o2c-desktop.desktop",
        f"{top}/share/icons/hicolor/256x256/apps/o2c-desktop.png",
        f"{top}/share/icons/hicolor/scalable/apps/o2c-desktop.svg",
    } <= names
    home = tmp_path / "home"
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    script = tmp_path / "unpacked" / top / "install.sh"
    subprocess.run([str(script)], env=env, check=True, capture_output=True)
    installed = home / ".local" / "opt" / "o2c-desktop"
    entry = (home / ".local/share/applications/o2c-desktop.desktop").read_text()
    assert f"Exec={installed}/o2c-desktop %F" in entry.splitlines()
    linked = subprocess.run(
        [str(home / ".local/bin/o2c"), "db", "info"], capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert linked.stdout == "O2C Desktop db info\n"
    book = home / ".local" / "share" / "o2c-desktop" / "o2c.sqlite3"
    book.parent.mkdir(parents=True)
    book.write_bytes(b"the collector's book")
    subprocess.run([str(script)], env=env, check=True, capture_output=True)  # upgrade
    subprocess.run([str(script), "--remove"], env=env, check=True, capture_output=True)
    assert not installed.exists()
    assert not (home / ".local/bin/o2c").exists()
    assert not (home / ".local/share/applications/o2c-desktop.desktop").exists()
    assert book.read_bytes() == b"the collector's book"
    subprocess.run(
        [str(script), "--remove", "--purge"], env=env, check=True, capture_output=True
    )
    assert not book.exists()


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/plugins/platforms/qwindows.dll", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqtiff.so", False),
        ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
        (
            "PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
            True,
        ),
        ("PySide6/Qt/translations/qtbase_fr.qm", True),
        ("PySide6/Qt/translations/qtbase_ja.qm", False),
        ("PySide6/Qt/translations/qtdeclarative_fr.qm", False),
        ("babel/locale-data/fr_BE.dat", True),
        ("babel/locale-data/root.dat", True),
        ("babel/locale-data/ja.dat", False),
        ("faker/providers/address/fr_FR/__init__.py", True),
        ("faker/providers/address/ja_JP/__init__.py", False),
        ("faker/providers/sbn/sbn.py", True),
        ("faker/providers/bank/de_CH/__init__.py", True),
        ("pyarrow/libarrow_flight.so.2600", False),
        ("pyarrow/libarrow_compute.so.2600", True),
        ("pyarrow/include/arrow/api.h", False),
        ("libarrow_flight.so.2600", False),
        ("o2c_desktop/migrations/versions/0009_x.py", True),
    ],
)
def test_what_the_bundle_leaves_out(dest: str, kept: bool, layout: ModuleType) -> None:
    assert layout.keep(dest) is kept


def test_the_built_bundle_has_only_the_kept_files(layout: ModuleType) -> None:
    if not BUILT.is_dir():
        return  # checked where a bundle was built (CI, `tools/dev.py package`)
    internal = BUILT / layout.INTERNAL
    files = [p for p in internal.rglob("*") if p.is_file() or p.is_symlink()]
    dropped = [p for p in files if not layout.keep(str(p.relative_to(internal)))]
    assert dropped == []
