# Shared by scripts/demo, scripts/serve and scripts/test: find Python 3.11+, make .venv, and
# install signoff into it only when it is not installed yet or pyproject.toml changed since, so
# a second run needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PY="$candidate"
      break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "signoff needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 3
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
fi

# install_signoff SPEC: an editable install of SPEC (".", ".[dev]") unless the same pyproject.toml
# was installed with it already. PYTHONWARNINGS hides setuptools' notice about editable installs.
install_signoff() {
  local spec="$1" stamp want
  stamp=".venv/.signoff-installed-$(printf '%s' "$spec" | tr -c 'a-z' '_')"
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  for done in "$stamp" .venv/.signoff-installed-__dev_; do  # the dev install holds the plain one
    if [ -f "$done" ] && [ "$(cat "$done")" = "$want" ] && { [ "$done" = "$stamp" ] || [ "$spec" = "." ]; }; then
      return 0
    fi
  done
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$want" > "$stamp"
}
