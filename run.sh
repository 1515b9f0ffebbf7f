#!/usr/bin/env bash
# kb-bot on a fresh machine, in one command:
#   bash run.sh           set up (first run only) and serve the web chat on http://127.0.0.1:7860
#                         (bundled model; the index is built from documents/ on first run)
#   bash run.sh test      set up everything the tests need (CPU torch, test model, Chromium) and run them
#   bash run.sh kb-bot …  run any kb-bot command inside the project's environment
set -euo pipefail
cd "$(dirname "$0")"
VENV="${KB_BOT_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
export GRADIO_ANALYTICS_ENABLED=False  # the machine is offline: no telemetry or version checks

say() { printf 'run.sh: %s\n' "$*" >&2; }

# The app: a virtual environment with kb-bot installed (re-installed when pyproject.toml changes).
setup_app() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  local stamp="$VENV/.kb-bot-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing kb-bot and its dependencies (bundled model, no torch)"
    "$VENV/bin/python" -m pip install -q -e .
    touch "$stamp"
  fi
}

# The tests: CPU-only torch first (a plain 'torch' requirement would pull a multi-GB CUDA build),
# then sentence-transformers, the offline test model, pytest and playwright; Chromium and a CJK font.
setup_test() {
  setup_app
  local stamp="$VENV/.kb-bot-test-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/python" -m pip install -q torch==2.13.0
    "$VENV/bin/python" -m pip install -q -e '.[st,test]'
    touch "$stamp"
  fi
  if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'cjk\|wqy'; then
    if [ "$(id -u)" = 0 ]; then
      say "installing Chromium, ChromeDriver and a CJK font for the browser tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
    else
      say "Chromium or a CJK font is missing; run: sudo apt-get install chromium chromium-driver fonts-noto-cjk"
    fi
  fi
}

case "${1:-serve}" in
  serve)
    setup_app
    shift || true
    exec "$VENV/bin/kb-bot" serve "$@"
    ;;
  test)
    setup_test
    shift
    exec "$VENV/bin/python" -m pytest -q "$@"
    ;;
  kb-bot)
    setup_app
    shift
    exec "$VENV/bin/kb-bot" "$@"
    ;;
  *)
    say "usage: bash run.sh [serve [kb-bot serve flags]] | test [pytest args] | kb-bot COMMAND ..."
    exit 2
    ;;
esac
