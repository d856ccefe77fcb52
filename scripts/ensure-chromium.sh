#!/bin/sh
# Browser tests need a Chromium. Use one that is installed; as root, install Debian's.
set -e
if [ -n "$TANDEM_CHROMIUM" ] && [ -x "$TANDEM_CHROMIUM" ]; then exit 0; fi
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (Debian package 'chromium')..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "No Chromium found. Install one (Debian/Ubuntu: sudo apt-get install chromium)," >&2
echo "or set TANDEM_CHROMIUM to its path, then run 'make test' again." >&2
exit 1
