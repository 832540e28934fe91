"""What the bundle is called and holds, shared by the spec, NSIS, dmgbuild and tests.

The PyInstaller spec builds the layout these names describe; the NSIS script,
the dmgbuild settings and the Linux tarball install it. A test compares the
three with what a build produced (tests/installer/).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any, Final

APP_NAME: Final = "O2C Desktop"
DIST_NAME: Final = "o2c-desktop"  # dist/<this>/
GUI_EXE: Final = "o2c-desktop"
CLI_EXE: Final = "o2c"
MAC_APP: Final = "O2C Desktop.app"
BUNDLE_ID: Final = "fr.o2c.desktop"
PUBLISHER: Final = "O2C"
INTERNAL: Final = "_internal"  # PyInstaller 6's folder of everything but the programs
RESOURCES: Final = "o2c_desktop/resources"

# Files a collector opens with the app (the import screen reads them).
DOCUMENT_TYPES: Final = (
    ("xlsx", "Excel workbook", "org.openxmlformats.spreadsheetml.sheet",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("csv", "CSV file", "public.comma-separated-values-text", "text/csv"),
)  # fmt: skip

# engine/pdf.py's first choice of font family.
FONT_FILES: Final = (
    "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansCondensed-Oblique.ttf",
    "DejaVuSansCondensed-BoldOblique.ttf",
)
SYSTEM_FONT_DIRS: Final = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
)

# The app imports QtCore, QtGui, QtWidgets and QtSvg (pyqtgraph the same).
QT_EXCLUDED_MODULES: Final = (
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel", "PySide6.QtWebSockets", "PySide6.QtWebView",
    "PySide6.Qt3DCore", "PySide6.Qt3DRender", "PySide6.Qt3DInput", "PySide6.Qt3DLogic",
    "PySide6.Qt3DAnimation", "PySide6.Qt3DExtras", "PySide6.QtDataVisualization",
    "PySide6.QtGraphs", "PySide6.QtCharts", "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets", "PySide6.QtSpatialAudio", "PySide6.QtQml",
    "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtQuick3D", "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets", "PySide6.QtNetwork", "PySide6.QtNetworkAuth",
    "PySide6.QtBluetooth", "PySide6.QtNfc", "PySide6.QtPositioning",
    "PySide6.QtLocation", "PySide6.QtSensors", "PySide6.QtSerialPort",
    "PySide6.QtSerialBus", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtDesigner",
    "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtXml", "PySide6.QtRemoteObjects",
    "PySide6.QtScxml", "PySide6.QtStateMachine", "PySide6.QtTextToSpeech",
    "PySide6.QtHttpServer", "PySide6.QtConcurrent", "PySide6.QtDBus",
    "PySide6.QtPrintSupport", "PySide6.QtSvgWidgets", "PySide6.QtAxContainer",
)  # fmt: skip

# Qt plugin folders the windows need; the others (printing, SQL, TLS,
# embedded input, QML tooling...) serve modules the app does not use.
QT_PLUGIN_DIRS: Final = frozenset({
    "platforms", "platformthemes", "platforminputcontexts", "imageformats",
    "iconengines", "styles", "xcbglintegrations", "wayland-decoration-client",
    "wayland-graphics-integration-client", "wayland-shell-integration",
})  # fmt: skip
QT_PLATFORMS: Final = ("xcb", "wayland", "offscreen", "minimal", "windows", "cocoa")
QT_IMAGE_FORMATS: Final = ("svg", "ico", "jpeg", "icns")
LANGUAGES: Final = ("fr", "en", "es", "de")  # UI and letters (i18n.py, templates/)
# Languages of the demo book's Faker locales (services/demo.py), with every
# country of each: a locale's providers import their neighbours' (fr_CH's bank
# is de_CH's).
FAKER_LANGUAGES: Final = frozenset({"fr", "es", "nl", "de", "it", "en"})
# pyarrow parts the import never loads (Flight RPC, cloud file systems, ORC,
# encryption); lib.so needs the others (dataset, parquet, substrait, acero).
PYARROW_UNUSED: Final = (
    "flight", "_s3", "s3fs", "gcsfs", "azurefs", "hdfs", "orc", "encryption",
)  # fmt: skip
QT_UNUSED_LIBS: Final = ("EglFSDeviceIntegration", "EglFsKmsSupport")


def _keep_qt_plugin(parts: tuple[str, ...]) -> bool:
    folder, name = parts[0], parts[-1]
    if folder not in QT_PLUGIN_DIRS:
        return False
    stem = re.sub(r"^(lib)?q", "", name.split(".")[0])
    if folder == "platforms":
        return any(stem.startswith(p) for p in QT_PLATFORMS)
    if folder == "imageformats":
        return stem in QT_IMAGE_FORMATS
    return True


def _keep_qt_translation(name: str) -> bool:
    # Only Qt's own widgets' strings (qtbase_*), only in the app's languages.
    match = re.fullmatch(r"qtbase_([a-z]{2})(_[A-Z]{2})?\.qm", name)
    return match is not None and match.group(1) in LANGUAGES


def _keep_babel_locale(name: str) -> bool:
    stem = name.removesuffix(".dat")
    return stem == "root" or stem.split("_")[0] in LANGUAGES


def _keep_faker(parts: tuple[str, ...]) -> bool:
    # faker/providers/<provider>/<locale>/...: the demo's locales only.
    if len(parts) < 4 or parts[1] != "providers":
        return True
    # Only language_COUNTRY folders: "sbn", "isbn"... are providers' own modules.
    locale = parts[3].removesuffix(".py")
    found = re.fullmatch(r"([a-z]{2,3})_[A-Z]{2}", locale)
    return found is None or found[1] in FAKER_LANGUAGES


def _keep_pyarrow(parts: tuple[str, ...]) -> bool:
    name = parts[-1]
    if len(parts) > 2 and parts[1] in ("include", "tests", "src"):
        return False
    if any(word in name for word in PYARROW_UNUSED):
        return False
    # The same library under its link names: the loader asks for the SONAME.
    return not re.fullmatch(r"libarrow_python\.so(\.\d+\.\d+\.\d+)?", name)


def keep_module(name: str) -> bool:
    """Whether a Python module (dotted name) of the analysis ships."""
    parts = tuple(name.split("."))
    if parts[0] == "faker":
        return _keep_faker(parts)
    if parts[0] == "pyarrow":
        return not any(word in parts[-1] for word in PYARROW_UNUSED)
    return True


def keep(dest: str) -> bool:
    """Whether a file of the PyInstaller output (its path in _internal/) ships."""
    path = PurePosixPath(dest.replace("\\", "/"))
    parts = path.parts
    if parts[0] == "faker":
        return _keep_faker(parts)
    if parts[0] == "pyarrow":
        return _keep_pyarrow(parts)
    # PyInstaller's links to pyarrow's libraries beside the programs.
    if path.name.startswith("libarrow") and len(parts) == 1:
        return _keep_pyarrow(("pyarrow", path.name))
    if any(f"Qt6{lib}." in path.name for lib in QT_UNUSED_LIBS):
        return False
    # PySide6/Qt/plugins on Linux and macOS, PySide6/plugins on Windows.
    for i, part in enumerate(parts[:-1]):
        if part == "plugins" and "PySide6" in parts[:i]:
            return _keep_qt_plugin(parts[i + 1 :])
        if part == "translations" and "PySide6" in parts[:i]:
            return _keep_qt_translation(path.name)
    if parts[:2] == ("babel", "locale-data"):
        return _keep_babel_locale(path.name)
    return True


def trim(toc: Any) -> Any:
    """`toc` (PyInstaller's list of (dest, source, kind)) without what `keep` drops."""
    return [entry for entry in toc if keep(entry[0])]


def trim_modules(toc: Any) -> Any:
    """`toc` of Python modules (name, source, kind) without what `keep_module` drops."""
    return [entry for entry in toc if keep_module(entry[0])]


# Debug symbols worth stripping (Linux): Python's own library as built here,
# pyarrow's (~30 MB together). Not the auditwheel-patched *.libs (see the spec).
STRIPPED: Final = (
    "libpython3*.so*", "pyarrow/libarrow*.so*", "pyarrow/libparquet*.so*",
)  # fmt: skip


def strip(internal: Path) -> int:
    """Strip the debug symbols of `STRIPPED` in `internal`; return the bytes saved."""
    tool = shutil.which("strip")
    if tool is None:
        return 0
    saved = 0
    for pattern in STRIPPED:
        for path in internal.glob(pattern):
            if path.is_symlink() or not path.is_file():
                continue
            before = path.stat().st_size
            subprocess.run([tool, "--strip-debug", str(path)], check=True)
            saved += before - path.stat().st_size
    return saved


def info_plist(version: str) -> dict[str, Any]:
    """The macOS Info.plist additions: version, document types, Retina."""
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHighResolutionCapable": True,
        "LSMinimumSystemVersion": "12.0",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": name,
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",  # "Open with", never the default
                "LSItemContentTypes": [uti],
                "CFBundleTypeExtensions": [ext],
            }
            for ext, name, uti, _mime in DOCUMENT_TYPES
        ],
    }
