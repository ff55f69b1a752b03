#!/usr/bin/env bash
# The README's walkthrough, as a script: run it against a running local testnet
# (`ballast cluster up`, in another shell, or `ballast cluster up --detach`).
#
#   cluster/walkthrough.sh [CLUSTER_DIR]      (default cluster/local)
#
# Makes three keys, funds them from the faucet, places a hedged spot+perp pair,
# compares the portfolio requirement with the standard one, borrows, then opens
# a leveraged long and shows it liquidated after the validators report a 30% crash.
# Every step checks its result; the script stops at the first that fails.
# BALLAST (the ballast binary) and BALLAST_NODE can be overridden.
set -euo pipefail

dir=${1:-cluster/local}
root=$(cd "$(dirname "$0")/.." && pwd)
ballast=${BALLAST:-$root/.build/release/ballast}
[ -x "$ballast" ] || ballast=$root/.build/debug/ballast
export BALLAST_HOME=$dir/wallet
export BALLAST_NODE=${BALLAST_NODE:-http://127.0.0.1:8080}

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ ballast %s\n' "$*"; "$ballast" "$@"; }
address() { "$ballast" keys show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])'; }
# A field of `ballast query account ADDR --json`, by a Python expression over `a`.
account() { "$ballast" query account "$1" --json | python3 -c "import json,sys; a=json.load(sys.stdin); print($2)"; }
check() { if ! python3 -c "import sys; sys.exit(0 if ($1) else 1)"; then echo "walkthrough: check failed: $1" >&2; exit 1; fi; }

step "1. Keys: alice trades, bob makes markets, carol takes too much risk"
if "$ballast" keys show alice >/dev/null 2>&1; then
    echo "walkthrough: $dir already has the walkthrough's keys; it expects a fresh cluster (ballast cluster reset --dir $dir, then cluster up)" >&2
    exit 1
fi
for name in alice bob carol; do run keys new "$name"; done
alice=$(address alice); bob=$(address bob); carol=$(address carol)

step "2. Funds from the faucet (USDC has 6 decimals, BTC 8)"
run tx transfer --to "$alice" --asset 0 --amount 100000000000 --key faucet --wait   # 100,000 USDC
run tx transfer --to "$bob" --asset 0 --amount 1000000000000 --key faucet --wait    # 1,000,000 USDC
run tx transfer --to "$bob" --asset 1 --amount 200000000 --key faucet --wait        # 2 BTC
run tx transfer --to "$carol" --asset 0 --amount 2000000000 --key faucet --wait     # 2,000 USDC

step "3. A hedged pair: alice buys 1 BTC spot and sells 1 BTC-PERP at the oracle price"
price=$("$ballast" query markets --json | python3 -c 'import json,sys; print(next(m["oracle"] for m in json.load(sys.stdin) if m["name"] == "BTC-PERP") // 1000000 * 1000000)')
echo "BTC oracle price, rounded down to the 1 USDC tick: $price (USDC base units per BTC)"
run tx mode portfolio --key alice --wait
run tx order --market 0 --side sell --price "$price" --size 100000000 --key bob --wait      # BTC/USDC ask
run tx order --market 3 --side buy --price "$price" --size 100000000 --key bob --wait       # BTC-PERP bid
run tx order --market 0 --side buy --price "$price" --size 100000000 --tif ioc --key alice --wait
run tx order --market 3 --side sell --price "$price" --size 100000000 --tif ioc --key alice --wait

step "4. The portfolio requirement against the standard one"
run query account "$alice"
portfolio=$(account "$alice" 'a["portfolio"]["maintenance"]')
standard=$(account "$alice" 'a["standard"]["maintenance"]')
echo "maintenance: portfolio $portfolio, standard $standard"
check "$portfolio * 2 < $standard"

step "5. Borrow: bob supplies 500,000 USDC to the pool, alice borrows 50,000 against her hedged book"
run tx supply --asset 0 --amount 500000000000 --key bob --wait
own=$(account "$alice" 'a["balances"][0]["supplied"]')
run tx borrow --asset 0 --amount 50000000000 --key alice --wait
run query account "$alice"
# Her own supplied USDC goes first; the rest is a loan from the pool, which accrues interest
# (5% a year at this utilization: about 20 base units a second) from the block it was taken in.
borrowed=$(account "$alice" 'a["balances"][0]["borrowed"]')
echo "supplied before: $own, borrowed now: $borrowed"
check "50000000000 - $own <= $borrowed <= (50000000000 - $own) * 10001 // 10000"
run query pools

step "6. A liquidation: carol buys 0.5 BTC-PERP with 2,000 USDC, then BTC falls"
run tx order --market 3 --side sell --price "$price" --size 50000000 --key bob --wait
run tx order --market 3 --side buy --price "$price" --size 50000000 --tif ioc --key carol --wait
# bob bids for 0.5 BTC-PERP 4.5% below: the depth the keeper will sell what it takes over into.
bid=$(( price / 1000000 * 955 / 1000 * 1000000 ))
run tx order --market 3 --side buy --price "$bid" --size 50000000 --key bob --wait
liquidation=$(account "$carol" 'a["positions"][0]["liquidationPriceBelow"]')
echo "carol's liquidation price: $liquidation"
run query account "$carol"

step "7. The crash: BTC falls 30% over a minute; the keeper liquidates carol when she crosses her price"
run cluster prices crash --dir "$dir"
printf '$ ballast cluster keeper --dir %s --watch %s --report %s/keeper.json  (in the background)\n' "$dir" "$carol" "$dir"
"$ballast" cluster keeper --dir "$dir" --watch "$carol" --report "$dir/keeper.json" >"$dir/keeper.log" 2>&1 &
keeper=$!
trap 'kill $keeper 2>/dev/null || true' EXIT
liquidated=""
for _ in $(seq 1 120); do
    sleep 1
    liquidated=$("$ballast" query history "$carol" --json | python3 -c '
import json, sys
events = json.load(sys.stdin)["events"]
print(next((str(e["height"]) for e in events if "liquidation" in e), ""))')
    [ -n "$liquidated" ] && break
done
kill -INT $keeper 2>/dev/null || true
wait $keeper 2>/dev/null || true
cat "$dir/keeper.log"
[ -n "$liquidated" ] || { echo "walkthrough: carol was not liquidated within two minutes" >&2; exit 1; }
echo "carol liquidated at height $liquidated"
run query history "$carol" --limit 5
run query account "$carol"
echo
echo "walkthrough: done"
