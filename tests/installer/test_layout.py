"""NSIS, dmgbuild and the Linux menu entry install what PyInstaller built.

The bundle's layout is the one `tools/dev.py package` left in dist/ (CI builds
it first); without a build, the layout installer/layout.py says the spec makes.
"""

from __future__ import annotations

import plistlib
import re
from typing import TYPE_CHECKING

from o2c_desktop import settings
from tests.installer.conftest import BUILT, INSTALLER

if TYPE_CHECKING:
    from types import ModuleType

NSI = INSTALLER / "windows" / "o2c-desktop.nsi"


def nsis_defines() -> dict[str, str]:
    text = NSI.read_text(encoding="utf-8")
    return dict(re.findall(r'^!define (\w+) "([^"]*)"', text, flags=re.M))


def nsis_section(name: str) -> str:
    text = NSI.read_text(encoding="utf-8")
    start = text.index(f'Section "{name}"')
    return text[start : text.index("SectionEnd", start)]


def expand(value: str) -> str:
    defines = nsis_defines()
    for _ in range(3):
        value = re.sub(r"\$\{(\w+)\}", lambda m: defines.get(m[1], m[0]), value)
    return value


def windows_layout(layout: ModuleType) -> set[str]:
    """The top level of the bundle folder, named as on Windows."""
    programs = {layout.GUI_EXE, layout.CLI_EXE}
    names = (
        {p.name for p in BUILT.iterdir()}
        if BUILT.is_dir()
        else {*programs, layout.INTERNAL}
    )
    return {f"{n}.exe" if n in programs else n for n in names}


def test_nsis_installs_every_top_level_entry_of_the_bundle(layout: ModuleType) -> None:
    section = nsis_section("O2C Desktop")
    files = re.findall(r'^\s*File (?:/r )?"\$\{DIST_DIR\}\\(.+)"$', section, re.M)
    assert {expand(f) for f in files} == windows_layout(layout)
    assert nsis_defines()["GUI_EXE"] == f"{layout.GUI_EXE}.exe"
    assert nsis_defines()["CLI_EXE"] == f"{layout.CLI_EXE}.exe"
    assert nsis_defines()["INTERNAL"] == layout.INTERNAL


def test_nsis_uninstaller_removes_what_it_installed_and_the_data_only_if_asked(
    layout: ModuleType,
) -> None:
    section = nsis_section("un.O2C Desktop")
    removed = {
        expand(p)
        for p in re.findall(
            r'^\s*(?:Delete|RMDir /r) "\$INSTDIR\\(.+)"$', section, re.M
        )
    }
    assert removed == windows_layout(layout) | {"uninstall.exe"}
    assert "RMDir /r" not in section.replace('RMDir /r "$INSTDIR\\${INTERNAL}"', "")
    text = NSI.read_text(encoding="utf-8")
    # The data section is unticked (/o) and removes the app's data folder only.
    data = re.search(
        r'Section /o "un\.Remove my books and settings".*?SectionEnd', text, re.S
    )
    assert data is not None
    assert re.findall(r'RMDir /r "(.+)"', data[0]) == ["${DATA_DIR}"]
    assert nsis_defines()["DATA_DIR"] == f"$LOCALAPPDATA\\{settings.APP_NAME}"


def test_the_icon_the_installer_and_shortcuts_use_is_in_the_bundle(
    layout: ModuleType,
) -> None:
    icon = nsis_defines()["ICON_FILE"]
    assert expand(icon) == (
        f"{layout.INTERNAL}\\{layout.RESOURCES.replace('/', chr(92))}"
        "\\icons\\o2c-desktop.ico"
    )
    if BUILT.is_dir():
        assert (BUILT / expand(icon).replace("\\", "/")).is_file()
    shortcuts = re.findall(r'CreateShortCut "([^"]+)" "([^"]+)"', NSI.read_text())
    assert {expand(s) for s, _ in shortcuts} == {
        "$SMPROGRAMS\\O2C Desktop\\O2C Desktop.lnk",
        "$SMPROGRAMS\\O2C Desktop\\Uninstall O2C Desktop.lnk",
        "$DESKTOP\\O2C Desktop.lnk",
    }


def test_open_with_lists_the_same_file_types_on_every_os(layout: ModuleType) -> None:
    extensions = {ext for ext, *_ in layout.DOCUMENT_TYPES}
    assert extensions == {"xlsx", "csv"}
    text = NSI.read_text(encoding="utf-8")
    assert set(
        re.findall(r'Classes\\\.(\w+)\\OpenWithProgids" "\$\{PROG_ID\}"', text)
    ) == (extensions)
    assert set(re.findall(r'SupportedTypes" "\.(\w+)"', text)) == extensions
    desktop = (INSTALLER / "linux" / "o2c-desktop.desktop").read_text(encoding="utf-8")
    mime = re.search(r"^MimeType=(.*)$", desktop, re.M)
    assert mime is not None
    assert set(filter(None, mime[1].split(";"))) == {
        m for *_, m in layout.DOCUMENT_TYPES
    }
    plist = plistlib.loads(plistlib.dumps(layout.info_plist("1.2.3")))
    assert plist["CFBundleShortVersionString"] == "1.2.3"
    assert [t["CFBundleTypeExtensions"] for t in plist["CFBundleDocumentTypes"]] == [
        ["xlsx"],
        ["csv"],
    ]
    assert {t["LSHandlerRank"] for t in plist["CFBundleDocumentTypes"]} == {"Alternate"}


def test_dmgbuild_puts_the_app_beside_an_applications_link(layout: ModuleType) -> None:
    settings_file = INSTALLER / "macos" / "dmgbuild_settings.py"
    app = f"dist/{layout.MAC_APP}"
    namespace: dict[str, object] = {"defines": {"app": app}}
    exec(compile(settings_file.read_text(), str(settings_file), "exec"), namespace)
    assert namespace["files"] == [app]
    assert namespace["symlinks"] == {"Applications": "/Applications"}
    assert namespace["icon"] == f"{app}/Contents/Resources/o2c-desktop.icns"
    assert set(namespace["icon_locations"]) == {layout.MAC_APP, "Applications"}  # type: ignore[call-overload]  # a dict by construction
    assert namespace["format"] == "UDZO"


def test_the_bundle_ships_its_data_files(layout: ModuleType) -> None:
    if not BUILT.is_dir():
        return  # checked where a bundle was built (CI, `tools/dev.py package`)
    internal = BUILT / layout.INTERNAL
    resources = internal / layout.RESOURCES
    assert (resources / "locale" / "fr" / "LC_MESSAGES" / "o2c_desktop.mo").is_file()
    assert {p.name for p in (resources / "templates").iterdir()} == {
        "de",
        "en",
        "es",
        "fr",
    }
    assert (internal / "o2c_desktop" / "migrations" / "env.py").is_file()
    assert (
        len(list((internal / "o2c_desktop" / "migrations" / "versions").glob("*.py")))
        >= 9
    )
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert {p.name for p in plugins.iterdir()} <= set(layout.QT_PLUGIN_DIRS)
    assert (plugins / "platforms" / "libqxcb.so").is_file()
    assert not list(internal.rglob("libQt6WebEngine*"))
    assert not list(internal.rglob("libarrow_flight*"))
