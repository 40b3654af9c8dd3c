#!/usr/bin/env bash
# Installs what supplysec needs to build and test on Debian bookworm:
# Debian packages (as root, through apt-get) and buf from the npm registry
# (development and CI only) into .tools/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config clang-format
  clang libclang-rt-14-dev llvm-14
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev
  libmongoc-dev libbson-dev libcmocka-dev libsqlite3-dev libssl-dev libmicrohttpd-dev
  libgoogle-perftools-dev
  python3-grpcio python3-protobuf nghttp2-client openssl curl sqlite3
  python3-mockupdb python3-mongomock python3-pymongo python3-h2 python3-prometheus-client
  chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages, development and CI only (never needed to run supplysecd):
# buf (lint, buf curl), the Connect project's Node client, a client of the
# HTTP listener we did not write (tests/e2e/test_node_client.py), and
# puppeteer-core, which drives Debian's chromium through the web console
# (tests/e2e/test_console.py; puppeteer-core 25 needs Node 22, bookworm has 20).
NPM_PACKAGES=(
  "@bufbuild/buf@1.47.2"
  "@bufbuild/protobuf@2.10.1"
  "@connectrpc/connect@2.1.1"
  "@connectrpc/connect-node@2.1.1"
  "puppeteer-core@24.43.1"
)
npm_missing=()
for p in "${NPM_PACKAGES[@]}"; do
  name=${p%@*}
  [ -f ".tools/node_modules/$name/package.json" ] || npm_missing+=("$p")
done
if [ ${#npm_missing[@]} -gt 0 ]; then
  if ! command -v npm >/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
  fi
  echo "deps: installing ${npm_missing[*]} into .tools/"
  mkdir -p .tools
  (cd .tools && npm install --no-audit --no-fund --silent "${npm_missing[@]}" >/dev/null)
fi
