#!/usr/bin/env bash
# Install fedsearch into .venv and run `fedsearch demo` on the embedded engine.
set -euo pipefail
cd "$(dirname "$0")/.."

# The port the demo will serve on (--port N or --port=N, as `fedsearch demo` takes it): check it is
# free now, before minutes of installing, not after.
PORT=8000
prev=""
for arg in "$@"; do
  case "$arg" in
    --port=*) PORT="${arg#--port=}" ;;
    *) if [ "$prev" = "--port" ]; then PORT="$arg"; fi ;;
  esac
  prev="$arg"
done
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  echo "demo.sh: --port must be a number from 1 to 65535 (got '$PORT')" >&2
  exit 2
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "demo.sh: port $PORT on 127.0.0.1 is in use; stop what uses it or choose another with --port" >&2
  exit 1
fi

# Zebra serves the demo's SRU library catalogue; install it from Debian when we can.
if ! command -v zebrasrv >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Index Data's Zebra (idzebra-2.0) for the SRU partner..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq idzebra-2.0 yaz >/dev/null
  else
    echo "note: zebrasrv not found; run 'sudo apt-get install idzebra-2.0' for the SRU partner" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/fedsearch ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
# Quiet unless it fails: build tools print warning banners a demo user can do nothing about.
if ! .venv/bin/pip install -q -e . >.venv/install.log 2>&1; then
  cat .venv/install.log >&2
  exit 1
fi
exec .venv/bin/fedsearch demo "$@"
