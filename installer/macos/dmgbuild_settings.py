"""dmgbuild settings: a drag-to-Applications disk image of "O2C Desktop.app".

    python -m dmgbuild -s installer/macos/dmgbuild_settings.py \
        -D app="dist/O2C Desktop.app" "O2C Desktop" dist/O2C-Desktop-0.1.0.dmg

`python tools/dev.py package` runs it on macOS after PyInstaller built the
bundle (its Info.plist, with the .xlsx/.csv document types, comes from
installer/layout.py). dmgbuild executes this file with `defines` set.
"""

from __future__ import annotations

import os.path

defines: dict[str, str] = globals().get("defines", {})
application = defines.get("app", "dist/O2C Desktop.app")
appname = os.path.basename(application)

# UDZO: zlib-compressed, read-only, opens on every supported macOS.
format = defines.get("format", "UDZO")
size = None  # computed from the contents
files = [application]
symlinks = {"Applications": "/Applications"}
hide_extensions = [appname]
icon = os.path.join(application, "Contents", "Resources", "o2c-desktop.icns")
icon_locations = {appname: (160, 150), "Applications": (480, 150)}
background = "builtin-arrow"
window_rect = ((200, 120), (640, 360))
default_view = "icon-view"
show_status_bar = False
show_tab_view = False
show_toolbar = False
show_pathbar = False
show_sidebar = False
icon_size = 128
text_size = 13
