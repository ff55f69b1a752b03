#!/usr/bin/env bash
# Installs what building Ballast needs and is missing (Debian/Ubuntu): pkg-config,
# libsodium-dev (Ed25519, BLAKE2b) and libsqlite3-dev (GRDB, the node's store); and python3-venv,
# which the Hyperliquid SDK test (cluster/hyperliquid-sdk-test.sh) makes its virtual environment with.
# Used by the README's first command and by .ci/run, so the two cannot drift.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists libsodium 2>/dev/null || need+=(libsodium-dev)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)   # GRDB (Storage)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)   # brings python3 too
if [ ${#need[@]} -gt 0 ]; then
    echo "install: installing ${need[*]}"
    sudo=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    ${sudo[@]+"${sudo[@]}"} apt-get update -qq
    ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
command -v swift >/dev/null 2>&1 || { echo "install: no swift on PATH: install Swift 6.1 or later from https://swift.org/install" >&2; exit 1; }
