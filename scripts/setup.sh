#!/usr/bin/env bash
# Installs what Drover needs on a fresh Debian 12 machine, and nothing that is already there:
# Debian's nats-server, openssl and chromium-headless-shell, then the npm packages (which bring the pinned Node 24 as node_modules/.bin/node).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_missing=()
command -v nats-server >/dev/null 2>&1 || apt_missing+=(nats-server)
# openssl makes the throwaway TLS pairs the deploy config test (and TLS tests) use.
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
# The browser the `drover serve` page test drives through playwright-core (no browser download).
dpkg -s chromium-headless-shell >/dev/null 2>&1 || apt_missing+=(chromium-headless-shell)
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${apt_missing[@]}"
fi

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "setup: node $(node_modules/.bin/node --version), nats-server $(nats-server --version 2>&1 | head -1)"
