#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Meson install script: put the example configuration at DIR/vigil.conf
# unless a file is there already (an operator's edits survive reinstalls).
# Usage: install-config.sh DIR EXAMPLE
set -eu
dir=$1
example=$2
case $dir in
/*) dest=${DESTDIR:-}$dir ;;
*) dest=$MESON_INSTALL_DESTDIR_PREFIX/$dir ;;
esac
if [ -e "$dest/vigil.conf" ]; then
	echo "vigil: keeping $dest/vigil.conf"
	exit 0
fi
install -d -m 0755 "$dest"
install -m 0644 "$example" "$dest/vigil.conf"
echo "Installing $example to $dest/vigil.conf"
