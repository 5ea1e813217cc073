# Shared set-up for bin/run and bin/test: system packages, virtualenv, deps.
# Sourced, not run. Idempotent: a second call with nothing changed takes a second.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ONSALE_VENV:-$ROOT/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  # Install Debian packages that are missing (as root, or through sudo).
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing system packages: ${missing[*]} (install them, or run as root)"
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for candidate in python3.12 python3.11 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 or newer is required"
}

ensure_venv() {
  # $1: extras to install ("" or "dev")
  local extras="${1:-}"
  command -v dpkg-query >/dev/null && apt_install default-libmysqlclient-dev pkg-config build-essential
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in $VENV"
    "$(find_python)" -m venv "$VENV"
  fi
  local spec="." stamp
  [ -n "$extras" ] && spec=".[$extras]"
  local hash
  hash="$(sha1sum <"$ROOT/pyproject.toml" | cut -c1-12)"
  stamp="$VENV/.onsale-installed-$hash-${extras:-base}"
  # The dev install holds everything the base one does: ./bin/run after
  # ./bin/test installs nothing again.
  [ -z "$extras" ] && [ -f "$VENV/.onsale-installed-$hash-dev" ] && stamp="$VENV/.onsale-installed-$hash-dev"
  if [ ! -f "$stamp" ]; then
    say "installing onsale and its dependencies ($spec)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    (cd "$ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec")
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}
