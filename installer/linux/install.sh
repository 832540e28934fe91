#!/bin/sh
# Install O2C Desktop for the current user (no administrator rights needed):
#   ./install.sh            into ~/.local/opt/o2c-desktop, menu entry, icon, `o2c` on PATH
#   ./install.sh --remove   uninstall (the books and settings in ~/.local/share
#                           and ~/.config stay, unless --purge is given too)
# An upgrade is the same command with the new tarball: the folder is replaced.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=${O2C_PREFIX:-$HOME/.local}
opt="$prefix/opt/o2c-desktop"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"

if [ "${1:-}" = "--remove" ]; then
  rm -rf "$opt"
  rm -f "$apps/o2c-desktop.desktop" "$prefix/bin/o2c" "$prefix/bin/o2c-desktop" \
        "$icons/256x256/apps/o2c-desktop.png" "$icons/scalable/apps/o2c-desktop.svg"
  if [ "${2:-}" = "--purge" ]; then
    rm -rf "${XDG_DATA_HOME:-$HOME/.local/share}/o2c-desktop" "${XDG_CONFIG_HOME:-$HOME/.config}/o2c-desktop"
  fi
  echo "O2C Desktop removed."
  exit 0
fi

mkdir -p "$prefix/opt" "$prefix/bin" "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
rm -rf "$opt.new"
cp -R "$here/o2c-desktop" "$opt.new"
rm -rf "$opt"
mv "$opt.new" "$opt"
ln -sf "$opt/o2c-desktop" "$prefix/bin/o2c-desktop"
ln -sf "$opt/o2c" "$prefix/bin/o2c"
cp "$here/share/icons/hicolor/256x256/apps/o2c-desktop.png" "$icons/256x256/apps/"
cp "$here/share/icons/hicolor/scalable/apps/o2c-desktop.svg" "$icons/scalable/apps/"
sed "s|@BIN@|$opt|" "$here/share/applications/o2c-desktop.desktop" > "$apps/o2c-desktop.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "O2C Desktop installed in $opt (start it from the menu, or run o2c-desktop)."
