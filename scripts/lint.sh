#!/usr/bin/env bash
# Lint, format check, types and import contracts (configured in pyproject.toml).
# Runs every check, then fails if any failed. .ci/run calls it before the tests.
# The tools come with the test extra: pip install -e '.[test]'.
set -uo pipefail
cd "$(dirname "$0")/.."
# Outside a virtualenv, use the project's .venv (COMMON.md) when it has the tools.
if [[ -z ${VIRTUAL_ENV:-} && -x .venv/bin/ruff ]]; then PATH="$PWD/.venv/bin:$PATH"; fi

failed=()
check() {
  local name=$1
  shift
  echo "lint: == $name: $*"
  if ! "$@"; then
    failed+=("$name")
  fi
}

check "ruff check" ruff check .
check "ruff format" ruff format --check .
check "mypy" mypy
check "import contracts" lint-imports

if (( ${#failed[@]} )); then
  echo "lint: failed: ${failed[*]} (ruff check --fix and ruff format fix most of the first two)" >&2
  exit 1
fi
echo "lint: all checks passed"
