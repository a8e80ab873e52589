#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Put the fieldcoord bundle this script sits in on the user's desktop: the bundle under
# ~/.local/opt/fieldcoord, its menu entry, icons and AppStream metadata under ~/.local/share,
# and `fieldcoord` on the PATH through ~/.local/bin. No root needed.
#
#   ./install-desktop.sh              install (again: replaces the installed copy)
#   ./install-desktop.sh --uninstall  remove what it installed (the data in
#                                     ~/.local/share/fieldcoord is kept)
# PREFIX chooses another place than ~/.local.
set -eu
APP_ID=org.fieldcoord.Fieldcoord
PREFIX=${PREFIX:-$HOME/.local}
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$PREFIX/opt/fieldcoord
SHARE=$PREFIX/share

uninstall() {
    rm -rf "$DEST"
    rm -f "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml"
    find "$SHARE/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
    if [ -L "$PREFIX/bin/fieldcoord" ]; then rm -f "$PREFIX/bin/fieldcoord"; fi
}

refresh() {
    command -v update-desktop-database >/dev/null 2>&1 && \
        update-desktop-database -q "$SHARE/applications" 2>/dev/null || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && \
        gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    refresh
    echo "fieldcoord removed from $PREFIX"
    exit 0
fi
if [ ! -x "$HERE/fieldcoord-app" ] || [ ! -d "$HERE/share" ]; then
    echo "run this script from inside the fieldcoord bundle (the folder of fieldcoord-app)" >&2
    exit 1
fi
if [ "$HERE" != "$DEST" ]; then
    rm -rf "$DEST.new"
    mkdir -p "$(dirname "$DEST")"
    cp -a "$HERE" "$DEST.new"
    rm -rf "$DEST"
    mv "$DEST.new" "$DEST"
fi
mkdir -p "$SHARE/applications" "$SHARE/metainfo" "$SHARE/icons" "$PREFIX/bin"
cp -r "$DEST/share/icons/hicolor" "$SHARE/icons/"
cp "$DEST/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
# the menu entry starts this copy, wherever PATH points
sed -e "s|^Exec=fieldcoord-app|Exec=\"$DEST/fieldcoord-app\"|" \
    -e "s|^TryExec=.*||" \
    "$DEST/share/applications/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
ln -sf "$DEST/fieldcoord" "$PREFIX/bin/fieldcoord"
refresh
echo "fieldcoord installed in $DEST; its menu entry is $SHARE/applications/$APP_ID.desktop"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "(add $PREFIX/bin to PATH to run fieldcoord from a terminal)";;
esac
