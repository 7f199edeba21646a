"""Load generator for the callback benchmark, run in its own process (see bench_callbacks.py).

Sends signed, encrypted contact-change callbacks to one URL on 127.0.0.1 at a fixed offered rate (open loop: a
request is sent at its scheduled time whether or not earlier ones have been answered), polls ``/healthz`` ten times
a second meanwhile, and prints one JSON line: acknowledgement and health latencies in milliseconds and counts.

    python tests/bench/callback_load.py --base http://127.0.0.1:PORT --corpid C --token T --aes-key K \\
        --rate 200 --seconds 10 [--first 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aiohttp  # noqa: E402

from app.dingtalk.crypto import DingTalkCrypto  # noqa: E402

DEADLINE_MS = 1500.0


def _prepared(args: argparse.Namespace) -> list[tuple[dict[str, str], bytes]]:
    crypto = DingTalkCrypto(args.token, args.aes_key, args.corpid)
    total = int(args.rate * args.seconds)
    out = []
    for n in range(args.first, args.first + total):
        event = {
            "EventType": "user_modify_org",
            "CorpId": args.corpid,
            "UserId": [f"{args.user_prefix}{n % args.users}"],
            "TimeStamp": str(int(time.time() * 1000) + n),
            "bench": uuid.uuid4().hex,
        }
        encrypt = crypto.encrypt(json.dumps(event))
        ts = str(int(time.time() * 1000))
        nonce = uuid.uuid4().hex[:16]
        query = {
            "corpid": args.corpid,
            "signature": crypto.signature(ts, nonce, encrypt),
            "timestamp": ts,
            "nonce": nonce,
        }
        out.append((query, json.dumps({"encrypt": encrypt}).encode()))
    return out


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(args: argparse.Namespace) -> dict:
    assert urlparse(args.base).hostname == "127.0.0.1", "load tests only target 127.0.0.1"
    requests = _prepared(args)
    url = f"{args.base}/api/ding_console/contacts/callback"
    acks: list[float] = []
    failures: dict[str, int] = {}
    health: list[float] = []
    health_bad = 0
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(query: dict[str, str], body: bytes) -> None:
            started = time.perf_counter()
            try:
                async with http.post(
                    url, params=query, data=body, headers={"Content-Type": "application/json"}
                ) as resp:
                    await resp.read()
                    status = resp.status
            except Exception as exc:
                failures[exc.__class__.__name__] = failures.get(exc.__class__.__name__, 0) + 1
                return
            elapsed = (time.perf_counter() - started) * 1000
            if status == 200:
                acks.append(elapsed)
            else:
                failures[str(status)] = failures.get(str(status), 0) + 1

        async def poll_health() -> None:
            nonlocal health_bad
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    async with http.get(f"{args.base}/healthz") as resp:
                        await resp.read()
                        if resp.status != 200:
                            health_bad += 1
                except Exception:
                    health_bad += 1
                health.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.1)

        poller = asyncio.create_task(poll_health())
        tasks = []
        t0 = time.perf_counter()
        for n, (query, body) in enumerate(requests):
            delay = t0 + n / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(query, body)))
        offered_seconds = time.perf_counter() - t0
        await asyncio.gather(*tasks)
        total_seconds = time.perf_counter() - t0
        stop.set()
        await poller
    return {
        "offered_rate": args.rate,
        "sent": len(requests),
        "acked": len(acks),
        "failures": failures,
        "send_seconds": round(offered_seconds, 2),
        "sustained_rate": round(len(acks) / total_seconds, 1) if total_seconds else 0,
        "ack_p50_ms": round(_pct(acks, 50), 1),
        "ack_p99_ms": round(_pct(acks, 99), 1),
        "ack_max_ms": round(max(acks, default=0), 1),
        "over_deadline": sum(1 for a in acks if a > DEADLINE_MS),
        "health_p50_ms": round(_pct(health, 50), 1),
        "health_p99_ms": round(_pct(health, 99), 1),
        "health_not_ok": health_bad,
        "health_polls": len(health),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--corpid", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--aes-key", required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--first", type=int, default=0, help="number of the first event (keeps runs distinct)")
    parser.add_argument("--users", type=int, default=500, help="events name users round-robin from this many")
    parser.add_argument("--user-prefix", default="benchuser")
    print(json.dumps(main_result := asyncio.run(main(parser.parse_args()))), flush=True)
