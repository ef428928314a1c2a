"""P1: per-call overhead of one signed ``qris.query`` — SDK vs a hand-written bare-httpx call,
both over the same in-process ``httpx.MockTransport`` (no sockets, so only client code counts)."""

from __future__ import annotations

import asyncio

import httpx

from ._fixtures import (
    ACCESS_TOKEN,
    BASE_URL,
    QUERY_PATH,
    REFERENCE,
    BareHttpx,
    BareSigner,
    CannedAyolinx,
    mock_sdk_client,
    new_key,
    sdk_query,
)
from ._report import Check, Report, interleaved, median, paired_ratio

ROUNDS = 15
CALLS = 400
GOAL = 1.10
FLOOR = "bare httpx (floor)"
SDK = "SDK qris.query"


async def _measure(rounds: int, calls: int) -> Report:
    key = new_key()
    mock = CannedAyolinx().transport()
    bare = BareHttpx(BASE_URL, key, httpx.AsyncClient(transport=mock))
    client = mock_sdk_client(key, mock)
    body = {"originalPartnerReferenceNo": REFERENCE, "additionalInfo": {"channel": "BNC_QRIS"}}
    # What httpx alone costs: the floor's POST with bytes and headers signed once, up front.
    raw_http = httpx.AsyncClient(transport=mock)
    signer = BareSigner(BASE_URL, key)
    signer.token = ACCESS_TOKEN
    signed_body, signed_headers = signer.query_request(REFERENCE)

    async def httpx_only() -> object:
        response = await raw_http.post(
            BASE_URL + QUERY_PATH, content=signed_body, headers=signed_headers
        )
        return response.content

    async def escape_hatch() -> object:
        return await client.request(QUERY_PATH, body, idempotent=True)

    async with client:
        await bare.fetch_token()
        await client.get_access_token()
        variants = {
            FLOOR: bare.query,
            SDK: lambda: sdk_query(client),
            "SDK client.request (untyped)": escape_hatch,
            "httpx POST alone (no signing, no JSON)": httpx_only,
        }
        await interleaved(variants, rounds=2, calls=200)  # warm-up: imports, caches, pools
        samples = await interleaved(variants, rounds=rounds, calls=calls)
    await bare.aclose()
    await raw_http.aclose()

    best_floor = min(samples[FLOOR])
    report = Report(
        title="P1 per-call overhead",
        setup=(
            f"{rounds} interleaved rounds x {calls} sequential calls per variant, asyncio,"
            " httpx.MockTransport with canned JSON (one event-loop yield per request), warm"
            " token. Ratio = median over rounds of (variant us/call / floor us/call) in the"
            " same round; 'best' = best round of each."
        ),
        columns=["variant", "median us/call", "best us/call", "ratio", "ratio (best)"],
    )
    for name, values in samples.items():
        report.rows.append(
            [
                name,
                median(values) * 1e6,
                min(values) * 1e6,
                paired_ratio(values, samples[FLOOR]),
                min(values) / best_floor,
            ]
        )
    ratio = paired_ratio(samples[SDK], samples[FLOOR])
    report.checks.append(Check("P1 SDK/baseline", ratio, "<=", GOAL))
    share = paired_ratio(samples["httpx POST alone (no signing, no JSON)"], samples[FLOOR])
    report.notes.append(
        f"Limit: httpx's own AsyncClient.post is {share:.0%} of the floor's time; the SDK pays"
        " it too (plus its pipeline and typed models) unless its transport skips that layer."
    )
    return report


def run(quick: bool = False) -> list[Report]:
    rounds, calls = (4, 100) if quick else (ROUNDS, CALLS)
    return [asyncio.run(_measure(rounds, calls))]
