#!/usr/bin/env python3
"""Hyperliquid's Python SDK against a running Ballast testnet (run by cluster/hyperliquid-sdk-test.sh).

Scripts a scenario with the `ballast` CLI, then reads it back with the SDK's `Info` client
(skip_ws=True) and checks every value against numbers worked out here by hand, and against
`ballast query account --json` (Ballast's own /v1 route).

The scenario (testnet genesis: BTC oracle 62,000 USDC, taker fee 450 ppm, maker 150 ppm; markets
0 = BTC/USDC spot, 3 = BTC-PERP):
  maker  gets 200,000 USDC and 2 BTC, supplies 50,000 USDC to the pool, and rests 8 orders.
  alice  gets 5,000 USDC, switches to portfolio margin, buys 0.1 BTC spot at 61,900 (borrowing
         the USDC she lacks) and shorts 0.1 BTC-PERP at 62,100: a hedged portfolio account.
  bob    gets 500 USDC and buys 0.02 BTC-PERP at 63,500 (standard margin).
"""
import argparse
import json
import os
import re
import subprocess
import sys
from decimal import Decimal as D

from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError

USDC = 10**6          # base units per USDC
BTC = 10**8           # base units per BTC
TAKER = D("0.00045")
MAKER = D("0.00015")
MARK = D(62000)       # BTC oracle; the perp book's median (61,000 / 62,000 / 63,500) keeps the mark there
R_BTC = D("0.01") * 1 + D("0.0025")   # r_u = S x beta + e, the lone-position maintenance rate (1.25%)
CONTINGENCY = D("0.1")                # c, the spot-perp basis contingency
FLOOR = D(20)                         # MR floor, USDC

checks = 0


def expect(label, got, want):
    """`got` (a Hyperliquid decimal string, or any value) equals `want` (a Decimal, or any value)."""
    global checks
    checks += 1
    if isinstance(want, D):
        if not isinstance(got, str) or not re.fullmatch(r"-?\d+\.\d+", got):
            raise AssertionError(f"{label}: {got!r} is not a decimal string")
        ok = D(got) == want
    else:
        ok = got == want
    if not ok:
        raise AssertionError(f"{label}: got {got!r}, want {want!r}")


def units(amount, scale):
    """A Decimal amount in base units (exact)."""
    value = amount * scale
    assert value == value.to_integral_value(), (amount, scale)
    return int(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballast", required=True)
    parser.add_argument("--wallet", required=True)
    parser.add_argument("--node", required=True)
    args = parser.parse_args()
    env = dict(os.environ, BALLAST_HOME=args.wallet, BALLAST_NODE=args.node)

    def ballast(*argv):
        done = subprocess.run([args.ballast, *argv], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"ballast {' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def tx(key, *argv):
        answer = json.loads(ballast("tx", *argv, "--key", key, "--wait", "--json"))
        receipt = answer.get("receipt") or {}
        if not receipt.get("ok") or any(o.get("code") for o in receipt.get("orders", [])):
            raise RuntimeError(f"{key}: tx {' '.join(argv)}: {answer}")
        return receipt

    addresses = {}
    for name in ("maker", "alice", "bob"):
        ballast("keys", "new", name)
        addresses[name] = json.loads(ballast("keys", "show", name, "--json"))["address"]
    maker, alice, bob = addresses["maker"], addresses["alice"], addresses["bob"]

    # --- The scenario, with the CLI.
    tx("faucet", "transfer", "--to", maker, "--asset", "0", "--amount", str(200_000 * USDC))
    tx("faucet", "transfer", "--to", maker, "--asset", "1", "--amount", str(2 * BTC))
    tx("faucet", "transfer", "--to", alice, "--asset", "0", "--amount", str(5_000 * USDC))
    tx("faucet", "transfer", "--to", bob, "--asset", "0", "--amount", str(500 * USDC))
    tx("maker", "supply", "--asset", "0", "--amount", str(50_000 * USDC))
    tx("alice", "mode", "portfolio")

    def order(market, side, price, size):
        return {"market": market, "side": side, "price": units(D(price), USDC), "size": units(D(size), BTC)}

    resting = [  # order ids 1..8, in this order
        order(0, "sell", 61900, "0.1"), order(0, "sell", 62600, "0.2"), order(0, "buy", 61500, "0.05"),
        order(3, "buy", 62100, "0.1"), order(3, "buy", 61000, "0.05"), order(3, "buy", 60000, "0.02"),
        order(3, "buy", 60000, "0.02"), order(3, "sell", 63500, "0.03"),
    ]
    tx("maker", "json", json.dumps({"type": "order", "orders": resting}))
    spot_buy = tx("alice", "order", "--market", "0", "--side", "buy", "--price", str(61900 * USDC), "--size", str(BTC // 10))
    perp_sell = tx("alice", "order", "--market", "3", "--side", "sell", "--price", str(62100 * USDC), "--size", str(BTC // 10))
    tx("bob", "order", "--market", "3", "--side", "buy", "--price", str(63500 * USDC), "--size", str(2 * BTC // 100))

    # --- By hand.
    size, bob_size = D("0.1"), D("0.02")
    spot_px, short_px, bob_px = D(61900), D(62100), D(63500)
    # alice pays 6,190 + 0.045% for the spot, 0.045% of 6,210 for the short; all past 5,000 is borrowed.
    alice_usdc = 5000 - size * spot_px * (1 + TAKER) - size * short_px * TAKER
    alice_borrowed = -alice_usdc                                   # 1,195.58
    alice_pnl = size * short_px - size * MARK                      # short: +10
    hedged = size                                                  # H = min(|B|, |P|)
    pr = CONTINGENCY * R_BTC * hedged * MARK                       # only the basis contingency: 7.75
    alice_mr = max(FLOOR, pr)
    alice_ir = max(2 * pr, alice_mr)
    alice_value = alice_usdc + alice_pnl + hedged * MARK           # V_liq: hedged spot at full value
    alice_position_margin = size * MARK * 2 * R_BTC                # the short alone, cross margin: 155
    bob_usdc = 500 - bob_size * bob_px * TAKER
    bob_pnl = bob_size * MARK - bob_size * bob_px                  # -30
    bob_mr = bob_size * MARK * R_BTC                               # 15.5
    bob_ir = 2 * bob_mr
    bob_value = bob_usdc + bob_pnl
    pool_supplied = D(50000)

    info = Info(base_url=args.node, skip_ws=True)

    # --- The SDK's own maps, built by its constructor from meta and spotMeta.
    expect("coin_to_asset", info.coin_to_asset,
           {"BTC": 0, "ETH": 1, "HYPE": 2, "BTC/USDC": 10000, "ETH/USDC": 10001, "HYPE/USDC": 10002})
    expect("asset_to_sz_decimals", info.asset_to_sz_decimals, {0: 5, 1: 4, 2: 2, 10000: 5, 10001: 4, 10002: 2})

    meta = info.meta()
    expect("meta names", [a["name"] for a in meta["universe"]], ["BTC", "ETH", "HYPE"])
    expect("meta maxLeverage", [a["maxLeverage"] for a in meta["universe"]], [40, 25, 10])
    spot_meta = info.spot_meta()
    expect("spot tokens", [(t["name"], t["index"], t["weiDecimals"]) for t in spot_meta["tokens"]],
           [("USDC", 0, 6), ("BTC", 1, 8), ("ETH", 2, 8), ("HYPE", 3, 8)])
    expect("spot pairs", [(p["name"], p["tokens"], p["index"]) for p in spot_meta["universe"]],
           [("BTC/USDC", [1, 0], 0), ("ETH/USDC", [2, 0], 1), ("HYPE/USDC", [3, 0], 2)])

    # --- Prices and books.
    mids = info.all_mids()
    expect("mids keys", sorted(mids), sorted(["BTC", "ETH", "HYPE", "BTC/USDC", "ETH/USDC", "HYPE/USDC"]))
    expect("BTC mid", mids["BTC"], (D(61000) + D(63500)) / 2)
    expect("BTC/USDC mid", mids["BTC/USDC"], (D(61500) + D(62600)) / 2)
    expect("ETH mid (empty book: mark)", mids["ETH"], D(3000))
    expect("HYPE mid (empty book: mark)", mids["HYPE"], D(40))

    book = info.l2_snapshot("BTC")
    bids, asks = book["levels"]
    expect("BTC bids", [(D(l["px"]), D(l["sz"]), l["n"]) for l in bids], [(D(61000), D("0.05"), 1), (D(60000), D("0.04"), 2)])
    expect("BTC asks", [(D(l["px"]), D(l["sz"]), l["n"]) for l in asks], [(D(63500), D("0.03") - bob_size, 1)])
    spot_book = info.l2_snapshot("BTC/USDC")
    expect("BTC/USDC coin", spot_book["coin"], "BTC/USDC")
    expect("BTC/USDC book", [[(D(l["px"]), D(l["sz"])) for l in side] for side in spot_book["levels"]],
           [[(D(61500), D("0.05"))], [(D(62600), D("0.2"))]])

    meta_ctx, perp_ctxs = info.meta_and_asset_ctxs()
    expect("BTC markPx", perp_ctxs[0]["markPx"], MARK)
    expect("BTC openInterest", perp_ctxs[0]["openInterest"], size)   # longs: maker 0.08 + bob 0.02
    spot_meta_ctx, spot_ctxs = info.spot_meta_and_asset_ctxs()
    expect("spot ctx coins", [c["coin"] for c in spot_ctxs], ["BTC/USDC", "ETH/USDC", "HYPE/USDC"])

    # --- alice: a hedged portfolio account.
    account = json.loads(ballast("query", "account", alice, "--json"))
    state = info.user_state(alice)
    summary = state["marginSummary"]
    expect("alice accountValue", summary["accountValue"], alice_value)
    expect("alice totalMarginUsed", summary["totalMarginUsed"], alice_ir)
    expect("alice crossMaintenanceMarginUsed", state["crossMaintenanceMarginUsed"], alice_mr)
    expect("alice totalNtlPos", summary["totalNtlPos"], size * MARK)
    expect("alice withdrawable", state["withdrawable"], D(0))
    expect("alice positions", len(state["assetPositions"]), 1)
    position = state["assetPositions"][0]["position"]
    expect("alice coin", position["coin"], "BTC")
    expect("alice szi", position["szi"], -size)
    expect("alice entryPx", position["entryPx"], short_px)
    expect("alice positionValue", position["positionValue"], size * MARK)
    expect("alice unrealizedPnl", position["unrealizedPnl"], alice_pnl)
    expect("alice marginUsed", position["marginUsed"], alice_position_margin)
    # ... and the same numbers in `ballast query account --json` (base units).
    expect("query mode", account["mode"], "portfolio")
    expect("query MR", account["portfolio"]["maintenance"], units(alice_mr, USDC))
    expect("query IR", account["portfolio"]["initial"], units(alice_ir, USDC))
    expect("query V_liq", account["portfolio"]["liquidationValue"], units(alice_value, USDC))
    expect("query position size", account["positions"][0]["size"], units(-size, BTC))
    expect("query entry", account["positions"][0]["entryPrice"], units(short_px, USDC))
    expect("query PnL", account["positions"][0]["unrealizedPnl"], units(alice_pnl, USDC))
    expect("query USDC borrowed", account["balances"][0]["borrowed"], units(alice_borrowed, USDC))
    liquidation = account["positions"][0].get("liquidationPriceAbove")
    expect("alice liquidationPx = query's", position["liquidationPx"],
           None if liquidation is None else D(liquidation) / USDC)

    spot_state = info.spot_user_state(alice)
    balances = {b["coin"]: b for b in spot_state["balances"]}
    expect("alice balances", sorted(balances), ["BTC", "USDC"])
    expect("alice USDC total", balances["USDC"]["total"], alice_usdc)
    expect("alice USDC borrowed", balances["USDC"]["borrowed"], alice_borrowed)
    expect("alice BTC total", balances["BTC"]["total"], size)
    expect("alice BTC supplied", balances["BTC"]["supplied"], size)
    expect("alice BTC entryNtl", balances["BTC"]["entryNtl"], size * spot_px)
    expect("alice token ids", (balances["USDC"]["token"], balances["BTC"]["token"]), (0, 1))
    expect("alice portfolioMarginEnabled", spot_state["portfolioMarginEnabled"], True)
    ratio = spot_state["portfolioMarginRatio"]   # MR / V_liq rounded up to a ppm
    expect("alice portfolioMarginRatio", ratio, (alice_mr / alice_value * 10**6).to_integral_value(rounding="ROUND_CEILING") / 10**6)

    # --- bob: a standard account.
    bob_state = info.user_state(bob)
    expect("bob accountValue", bob_state["marginSummary"]["accountValue"], bob_value)
    expect("bob totalMarginUsed", bob_state["marginSummary"]["totalMarginUsed"], bob_ir)
    expect("bob crossMaintenanceMarginUsed", bob_state["crossMaintenanceMarginUsed"], bob_mr)
    expect("bob withdrawable", bob_state["withdrawable"], bob_value - bob_ir)
    bob_position = bob_state["assetPositions"][0]["position"]
    expect("bob szi", bob_position["szi"], bob_size)
    expect("bob entryPx", bob_position["entryPx"], bob_px)
    expect("bob unrealizedPnl", bob_position["unrealizedPnl"], bob_pnl)
    bob_account = json.loads(ballast("query", "account", bob, "--json"))
    expect("bob query V", bob_account["standard"]["liquidationValue"], units(bob_value, USDC))
    expect("bob query MR", bob_account["standard"]["maintenance"], units(bob_mr, USDC))

    # --- maker's resting orders, newest first.
    orders = info.open_orders(maker)
    expect("maker oids", [o["oid"] for o in orders], [8, 7, 6, 5, 3, 2])
    expect("maker orders", [(o["coin"], o["side"], D(o["limitPx"]), D(o["sz"])) for o in orders], [
        ("BTC", "A", D(63500), D("0.01")), ("BTC", "B", D(60000), D("0.02")), ("BTC", "B", D(60000), D("0.02")),
        ("BTC", "B", D(61000), D("0.05")), ("BTC/USDC", "B", D(61500), D("0.05")), ("BTC/USDC", "A", D(62600), D("0.2"))])
    expect("maker origSz", [D(o["origSz"]) for o in orders], [D("0.03"), D("0.02"), D("0.02"), D("0.05"), D("0.05"), D("0.2")])
    frontend = info.frontend_open_orders(maker)
    expect("frontend tif", {o["tif"] for o in frontend}, {"Gtc"})

    # --- Fills, newest first (order ids: maker 1..8, alice 9 and 10, bob 11).
    fills = info.user_fills(alice)
    expect("alice fills", [(f["coin"], f["side"], D(f["px"]), D(f["sz"]), f["dir"], D(f["startPosition"]), f["oid"], f["crossed"])
                           for f in fills],
           [("BTC", "A", short_px, size, "Open Short", D(0), 10, True), ("BTC/USDC", "B", spot_px, size, "Buy", D(0), 9, True)])
    expect("alice fees", [D(f["fee"]) for f in fills], [size * short_px * TAKER, size * spot_px * TAKER])
    expect("alice closedPnl", [D(f["closedPnl"]) for f in fills], [D(0), D(0)])
    expect("alice fill hashes", [f["hash"] for f in fills], [perp_sell["txId"], spot_buy["txId"]])
    maker_fills = info.user_fills(maker)
    expect("maker fill dirs", [f["dir"] for f in maker_fills], ["Close Long", "Open Long", "Sell"])
    expect("maker closedPnl", [D(f["closedPnl"]) for f in maker_fills], [bob_size * (bob_px - short_px), D(0), D(0)])
    expect("maker fees", [D(f["fee"]) for f in maker_fills],
           [bob_size * bob_px * MAKER, size * short_px * MAKER, size * spot_px * MAKER])
    expect("maker startPosition", [D(f["startPosition"]) for f in maker_fills], [size, D(0), D(2)])
    expect("one trade, one tid", maker_fills[1]["tid"], fills[0]["tid"])
    expect("maker entryPx", info.user_state(maker)["assetPositions"][0]["position"]["entryPx"], short_px)

    # --- Borrow and lend, through the SDK's raw post.
    lend = info.post("/info", {"type": "borrowLendUserState", "user": alice})
    states = dict((token, state) for token, state in lend["tokenToState"])
    expect("alice lend tokens", sorted(states), [0, 1])
    expect("alice USDC borrow value", states[0]["borrow"]["value"], alice_borrowed)
    expect("alice USDC borrow basis", states[0]["borrow"]["basis"], alice_borrowed)   # 0% interest: no growth
    expect("alice BTC supply value", states[1]["supply"]["value"], size)
    expect("alice health", lend["health"], "healthy")
    expect("alice healthFactor", lend["healthFactor"], alice_value / alice_mr)
    reserve = info.post("/info", {"type": "borrowLendReserveState", "token": 0})
    expect("USDC totalSupplied", reserve["totalSupplied"], pool_supplied)
    expect("USDC totalBorrowed", reserve["totalBorrowed"], alice_borrowed)
    expect("USDC balance", reserve["balance"], pool_supplied - alice_borrowed)
    expect("USDC utilization", reserve["utilization"], alice_borrowed / pool_supplied)
    expect("USDC borrowYearlyRate", reserve["borrowYearlyRate"], D(0))
    reserves = dict((token, state) for token, state in info.post("/info", {"type": "allBorrowLendReserveStates"}))
    expect("reserve tokens", sorted(reserves), [0, 1, 2, 3])
    expect("BTC borrowYearlyRate", reserves[1]["borrowYearlyRate"], D("0.05"))
    expect("BTC totalSupplied", reserves[1]["totalSupplied"], size)
    expect("BTC ltv", reserves[1]["ltv"], D("0.5"))

    # --- A bad request is a ClientError with Ballast's code, not a crash.
    try:
        info.post("/info", {"type": "noSuchQuery"})
        raise AssertionError("an unknown type was answered")
    except ClientError as error:
        expect("unknown type status", error.status_code, 400)
        expect("unknown type code", error.error_code, "unknown_type")

    print(f"hyperliquid-sdk-check: {checks} checks passed (hyperliquid-python-sdk Info against {args.node})")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, RuntimeError) as error:
        print(f"hyperliquid-sdk-check: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
