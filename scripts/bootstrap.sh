#!/usr/bin/env bash
# One idempotent set-up for `make demo`, `make test` and CI.
#
# Installs the Debian packages the kiosk and its tests need (the one list is below),
# creates .venv at the repository root and installs the pinned Python packages from
# requirements.lock plus the project itself (editable). Safe to run again: each step
# checks before it acts, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-stamp"

# The one list of system packages.
DEBIAN_PACKAGES=(
  # Python itself, for a machine with nothing but Debian
  python3 python3-venv python3-dev build-essential pkg-config
  # Kivy under a virtual X display: SDL2, OpenGL (Mesa software), input, clipboard
  xvfb xauth libgl1 libgl1-mesa-dri libegl1 libgles2 libmtdev1
  libsdl2-2.0-0 libsdl2-image-2.0-0 libsdl2-ttf-2.0-0 libsdl2-mixer-2.0-0 xclip xsel
  # Chinese type for the screens and the receipt
  fonts-noto-cjk
  # the catalog's pictures (symbols of DejaVu Sans)
  fonts-dejavu-core
  # handwriting recognition (Zinnia and its Simplified Chinese model)
  libzinnia0 tegaki-zinnia-simplified-chinese
  # voice prompts (Mandarin, Cantonese, Hakka) and sox to check and play them
  espeak-ng sox
  # barcodes and QR codes
  libzbar0
  # smart cards: the PC/SC daemon, headers and swig to build pyscard, the virtual reader
  pcscd libpcsclite-dev swig vsmartcard-vpcd
  # the hall's production database, started by the tests
  postgresql
  # TLS in front of several hall processes (deploy/nginx/county-hall.conf, tests/hall/test_nginx.py)
  nginx-light
  # the console is tested in a real headless browser
  chromium chromium-driver
  # helpers the tests and docs use
  procps git
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  local missing
  missing="$(missing_packages)"
  if [ -z "$missing" ]; then
    echo "bootstrap: system packages present"
    return
  fi
  echo "bootstrap: installing system packages:" $missing
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

install_python_packages() {
  local want
  want="$(sha256sum "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "bootstrap: .venv up to date"
    return
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating .venv"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip wheel setuptools
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.lock"
  "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$ROOT"
  echo "$want" > "$STAMP"
  # A sudo run leaves root-owned files; give them back to the person who asked.
  if [ -n "${SUDO_UID:-}" ]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$VENV"; fi
}

install_debian_packages
install_python_packages
echo "bootstrap: ready ($VENV)"
