#!/bin/sh
# Adds TradeBridge (this folder) to the current user's application menu; `--remove` takes it out again.
# Nothing outside ~/.local/share is touched and no root is needed; the data folder is never touched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
share=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$share/applications/tradebridge.desktop"

if [ "${1:-}" = "--remove" ]; then
    rm -f "$entry"
    for icon in "$share"/icons/hicolor/*/apps/tradebridge.png; do
        [ -e "$icon" ] && rm -f "$icon"
    done
    echo "TradeBridge removed from the application menu."
    exit 0
fi

for png in "$here"/icons/hicolor/*/apps/tradebridge.png; do
    size=$(basename "$(dirname "$(dirname "$png")")")
    mkdir -p "$share/icons/hicolor/$size/apps"
    cp "$png" "$share/icons/hicolor/$size/apps/tradebridge.png"
done
mkdir -p "$share/applications"
sed "s|^Exec=.*|Exec=\"$here/TradeBridge\"|" "$here/tradebridge.desktop" > "$entry"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
echo "TradeBridge added to the application menu ($entry)."
