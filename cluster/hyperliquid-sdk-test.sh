#!/usr/bin/env bash
# Hyperliquid's own Python SDK (hyperliquid-python-sdk 0.24.0, from PyPI) reads a local Ballast
# testnet through POST /info, and what it reads equals numbers worked out by hand from a scripted
# scenario (cluster/hyperliquid_sdk_check.py). Run by NodeTests' HyperliquidSDKTests in CI.
#
#   cluster/hyperliquid-sdk-test.sh            # uses .build/debug/ballast
#   BALLAST=.build/release/ballast cluster/hyperliquid-sdk-test.sh
#
# The virtual environment is kept in .build/hyperliquid-sdk-venv (BALLAST_HL_VENV) so a second run
# does not download again. Exit status 3: python3 or its venv module (Debian: python3-venv) is
# missing; cluster/install.sh installs it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ballast=${BALLAST:-$repo/.build/debug/ballast}
venv=${BALLAST_HL_VENV:-$repo/.build/hyperliquid-sdk-venv}
sdk_version=0.24.0

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "hyperliquid-sdk-test: python3 with the venv module is needed (Debian: apt-get install python3-venv; cluster/install.sh does it)" >&2
    exit 3
fi
[ -x "$ballast" ] || { echo "hyperliquid-sdk-test: no ballast executable at $ballast (swift build, or set BALLAST)" >&2; exit 1; }

# The SDK, installed from PyPI into a virtual environment (once; reused while the version matches).
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('hyperliquid-python-sdk') != '$sdk_version')" >/dev/null 2>&1; then
    echo "hyperliquid-sdk-test: installing hyperliquid-python-sdk==$sdk_version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "hyperliquid-python-sdk==$sdk_version"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ballast-hl-sdk.XXXXXX")
cleanup() {
    "$ballast" cluster down --dir "$work/cluster" --timeout 5 >/dev/null 2>&1 || true
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "hyperliquid-sdk-test: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The testnet genesis with interest and funding held still: block times are the wall clock, and the
# check compares exact amounts. Pools lend at 0% (BTC's pool keeps a 5% base rate that nobody
# borrows at, so the reserve query has a rate to show) and funding settles once in ten years.
python3 - "$repo/genesis/testnet.json" "$work/genesis.json" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["rateModel"] = {"baseRatePpm": 0, "slope1Ppm": 0, "kinkPpm": 800000, "slope2Ppm": 0, "reserveFactorPpm": 100000}
g["assets"][1]["rateModel"] = {"baseRatePpm": 50000, "slope1Ppm": 0, "kinkPpm": 800000, "slope2Ppm": 950000, "reserveFactorPpm": 100000}
g["funding"]["intervalMs"] = 315360000000
json.dump(g, open(sys.argv[2], "w"), indent=2)
EOF

read -r p2p rpc < <(python3 -c 'import socket
ports = []
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1])
print(*ports)')

"$ballast" cluster up --detach --dir "$work/cluster" --validators 1 --genesis "$work/genesis.json" \
    --p2p-port "$p2p" --rpc-port "$rpc" >"$work/cluster-up.log" 2>&1 || { cat "$work/cluster-up.log" >&2; exit 1; }

"$venv/bin/python" "$repo/cluster/hyperliquid_sdk_check.py" --ballast "$ballast" \
    --wallet "$work/cluster/wallet" --node "http://127.0.0.1:$rpc"
