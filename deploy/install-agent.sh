#!/usr/bin/env bash
# Installs the Drover agent on one node: the single binary, its systemd unit and its config.
#
#   sudo deploy/install-agent.sh --binary dist/drover-agent --config ./agent.json
#   sudo deploy/install-agent.sh --binary dist/drover-agent            # upgrade: keep the config
#   DESTDIR=/tmp/root deploy/install-agent.sh --binary … --config …    # stage into a folder (tests, packages)
#
# The config is validated with the NEW binary (`--check-config`) before anything is put in place; an
# existing config is never overwritten. With DESTDIR set nothing outside it is touched (no systemctl).
set -euo pipefail

PROGRAM=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<USAGE
Usage: $PROGRAM --binary PATH [--config PATH] [options]

  --binary PATH    the drover-agent binary to install (dist/drover-agent from npm run build:agent)
  --config PATH    the agent config (JSON) to install as SYSCONFDIR/drover/agent.json; refused if one
                   exists already. Omit it to upgrade the binary and keep (and re-check) the current one.
  --unit PATH      the systemd unit (default: $SCRIPT_DIR/systemd/drover-agent.service)
  --prefix DIR     where bin/drover-agent goes (default: \$PREFIX or /usr/local)
  --destdir DIR    stage everything under DIR (default: \$DESTDIR or none); implies --no-start
  --no-start       install files only; do not enable or (re)start the service
  -h, --help       this text

Exit status: 0 installed, 1 refused or failed (the reason is printed), 2 usage error.
USAGE
}

fail() {
  echo "$PROGRAM: $*" >&2
  exit 1
}

usage_error() {
  echo "$PROGRAM: $*" >&2
  echo "Try '$PROGRAM --help'." >&2
  exit 2
}

BINARY=''
CONFIG=''
UNIT="$SCRIPT_DIR/systemd/drover-agent.service"
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
START=yes

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY=${2:-}; shift 2 || usage_error '--binary needs a path' ;;
    --config) CONFIG=${2:-}; shift 2 || usage_error '--config needs a path' ;;
    --unit) UNIT=${2:-}; shift 2 || usage_error '--unit needs a path' ;;
    --prefix) PREFIX=${2:-}; shift 2 || usage_error '--prefix needs a directory' ;;
    --destdir) DESTDIR=${2:-}; shift 2 || usage_error '--destdir needs a directory' ;;
    --no-start) START=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done

[ -n "$BINARY" ] || usage_error '--binary is required'
case "$PREFIX" in /*) ;; *) usage_error "--prefix: got '$PREFIX', expected an absolute path" ;; esac
if [ -n "$DESTDIR" ]; then
  case "$DESTDIR" in /*) ;; *) usage_error "--destdir: got '$DESTDIR', expected an absolute path" ;; esac
  DESTDIR=${DESTDIR%/}
  START=no
elif [ "$(id -u)" -ne 0 ]; then
  fail 'installing into the system needs root (or set DESTDIR to stage into a folder)'
fi
[ -f "$BINARY" ] && [ -x "$BINARY" ] || fail "--binary: got '$BINARY', expected an executable file"
[ -f "$UNIT" ] || fail "--unit: got '$UNIT', expected the drover-agent.service file"
[ -z "$CONFIG" ] || [ -f "$CONFIG" ] || fail "--config: got '$CONFIG', expected an existing JSON file"

BIN_DIR="$DESTDIR$PREFIX/bin"
CONF_DIR="$DESTDIR/etc/drover"
CONF_FILE="$CONF_DIR/agent.json"
UNIT_DIR="$DESTDIR/etc/systemd/system"
TARGET_BIN="$BIN_DIR/drover-agent"

# Decide everything before changing anything.
if [ -n "$CONFIG" ] && [ -e "$CONF_FILE" ]; then
  fail "$CONF_FILE exists; refusing to overwrite it (omit --config to keep it, or remove it first)"
fi
if [ -z "$CONFIG" ] && [ ! -f "$CONF_FILE" ]; then
  fail "no --config given and $CONF_FILE does not exist; pass --config PATH for a first install"
fi
CHECK_CONFIG=${CONFIG:-$CONF_FILE}
echo "checking $CHECK_CONFIG with $BINARY --check-config"
"$BINARY" --config "$CHECK_CONFIG" --check-config ||
  fail "config $CHECK_CONFIG is not valid (see above); nothing was installed"

# The unit names /usr/local/bin; follow --prefix.
STAGED_UNIT=$(mktemp)
trap 'rm -f "$STAGED_UNIT"' EXIT
sed "s#^ExecStart=/usr/local/bin/drover-agent #ExecStart=$PREFIX/bin/drover-agent #" "$UNIT" >"$STAGED_UNIT"
grep -q "^ExecStart=$PREFIX/bin/drover-agent " "$STAGED_UNIT" ||
  fail "--unit: $UNIT has no 'ExecStart=/usr/local/bin/drover-agent …' line to point at $PREFIX/bin"

# Binary: copy next to the target, then rename, so a running agent keeps its (old) file intact.
install -d -m 0755 "$BIN_DIR"
install -m 0755 "$BINARY" "$TARGET_BIN.new"
mv -f "$TARGET_BIN.new" "$TARGET_BIN"
echo "installed $TARGET_BIN"

# Config: the directory holds NATS credentials; root only.
install -d -m 0700 "$CONF_DIR"
chmod 0700 "$CONF_DIR"
if [ -n "$CONFIG" ]; then
  install -m 0600 "$CONFIG" "$CONF_FILE"
  echo "installed $CONF_FILE"
else
  echo "kept $CONF_FILE"
fi

install -d -m 0755 "$UNIT_DIR"
install -m 0644 "$STAGED_UNIT" "$UNIT_DIR/drover-agent.service"
echo "installed $UNIT_DIR/drover-agent.service"

if command -v systemd-analyze >/dev/null 2>&1; then
  # verify checks paths (ExecStart must exist): point it at the binary just installed.
  VERIFY_DIR=$(mktemp -d)
  sed "s#^ExecStart=$PREFIX/bin/drover-agent #ExecStart=$TARGET_BIN #" "$STAGED_UNIT" >"$VERIFY_DIR/drover-agent.service"
  if ! systemd-analyze verify "$VERIFY_DIR/drover-agent.service"; then
    rm -rf "$VERIFY_DIR"
    fail "systemd-analyze verify found problems in $UNIT_DIR/drover-agent.service"
  fi
  rm -rf "$VERIFY_DIR"
fi

if [ "$START" = yes ]; then
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable drover-agent.service
    systemctl restart drover-agent.service
    echo 'drover-agent enabled and (re)started; follow it with: journalctl -u drover-agent -f'
  else
    echo 'systemd is not running here; start the agent yourself:'
    echo "  $PREFIX/bin/drover-agent --config /etc/drover/agent.json"
  fi
else
  echo "files staged; to run: systemctl daemon-reload && systemctl enable --now drover-agent"
fi
