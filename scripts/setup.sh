#!/usr/bin/env bash
# Installs what Overture needs and is missing: Debian packages, then a virtualenv (.venv) with
# the project in editable mode and its test extras. Idempotent; a second run takes a moment.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  fluidsynth libfluidsynth3 musescore-general-soundfont timgm6mb-soundfont
  espeak-ng ffmpeg libsndfile1 build-essential python3-dev python3-venv
  postgresql redis-server
  chromium fonts-noto-cjk
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "setup: not a Debian/Ubuntu system; install these yourself if absent: ${APT_PACKAGES[*]}" >&2
fi

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo)
  else
    echo "setup: error: these Debian packages are missing and installing them needs root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    echo "Run that command (or run make as root), then run make again." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: error: Overture needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating virtualenv .venv"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the project's dependencies change.
stamp=.venv/.overture-setup
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import overture' 2>/dev/null; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test,eval,transcribe]'
  echo "$want" >"$stamp"
fi

# basic-pitch (an optional transcription method) without its TensorFlow requirement: its
# run-time imports come with the `transcribe` extra above, and it runs its ONNX model.
if ! .venv/bin/python -c 'import importlib.metadata as m; m.version("basic-pitch")' 2>/dev/null; then
  echo "setup: installing basic-pitch (ONNX model, no TensorFlow)"
  .venv/bin/python -m pip install -q --no-deps 'basic-pitch==0.4.0'
fi
