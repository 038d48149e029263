#!/usr/bin/env bash
# Makes sure a Chromium is on PATH for the dashboard's browser test (test/e2e/dashboard.test.ts,
# DESIGN §12). Found (`chromium` or `chromium-browser`): says which and changes nothing. Missing:
# installs Debian's `chromium` with apt-get, non-interactive, each step bounded in time (as root,
# or through passwordless sudo). Says what it did; the last line of stdout is the browser's path.
# Exit 0: a browser is there; 1: none could be installed (the reason is on stderr).
set -euo pipefail

update_timeout_s="${BROWSER_APT_UPDATE_TIMEOUT_S:-300}"
install_timeout_s="${BROWSER_APT_INSTALL_TIMEOUT_S:-900}"
# Another apt run holding the lock (unattended upgrades, a parallel CI step) is waited for, this long.
lock_timeout_s=120

say() { echo "install-browser: $*" >&2; }

find_browser() {
  local name
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

if browser="$(find_browser)"; then
  say "found $browser ($("$browser" --version 2>/dev/null || echo 'version unknown')); nothing to install"
  echo "$browser"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "no chromium on PATH and no apt-get on this system: install Chromium and put it on PATH"
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  say "no chromium on PATH, and installing one needs root (or passwordless sudo)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_options=(-o "DPkg::Lock::Timeout=$lock_timeout_s" -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
say "no chromium on PATH: apt-get update (at most ${update_timeout_s} s)"
if ! timeout "$update_timeout_s" "${as_root[@]}" apt-get "${apt_options[@]}" -q update >&2; then
  say "apt-get update failed or timed out"
  exit 1
fi
say "apt-get install --no-install-recommends chromium (at most ${install_timeout_s} s)"
if ! timeout "$install_timeout_s" "${as_root[@]}" apt-get "${apt_options[@]}" -q -y --no-install-recommends install chromium >&2; then
  say "apt-get install chromium failed or timed out"
  exit 1
fi
if ! browser="$(find_browser)"; then
  say "apt-get installed chromium, yet no chromium is on PATH"
  exit 1
fi
say "installed $browser ($("$browser" --version 2>/dev/null || echo 'version unknown'))"
echo "$browser"
