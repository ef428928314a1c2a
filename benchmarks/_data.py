"""Fixed benchmark data: credentials, paths and the canned Ayolinx answers (shared by the server
process and the clients, so neither imports the other)."""

from __future__ import annotations

import json

TOKEN_PATH = "/v1.0/access-token/b2b"
QUERY_PATH = "/v1.0/qr/qr-mpm-query"
REFERENCE = "ORDER-20240918-0001"
CLIENT_KEY = "CKBench-154dc98b-f8ea-4a68-a9f7-6f4e8963b86c"
CLIENT_SECRET = "SKBench-5ecret-8a1b-4c2d-9e3f-0a1b2c3d4e5f"
ACCESS_TOKEN = "gp9HjjEj813Y9JGoqwOeOPWbnt4CUpvIJbU1mMU4a11MNDZ7Sg5u9a"

TOKEN_BODY = json.dumps(
    {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": ACCESS_TOKEN,
        "tokenType": "Bearer",
        "expiresIn": "900",
    }
).encode()

QUERY_BODY = json.dumps(
    {
        "responseCode": "2005100",
        "responseMessage": "Successful",
        "originalReferenceNo": "A120240918133636123456789",
        "originalPartnerReferenceNo": REFERENCE,
        "latestTransactionStatus": "00",
        "transactionStatusDesc": "Success",
        "finishedTime": "2024-09-18T13:40:00+07:00",
        "amount": {"value": "10000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_QRIS"},
    }
).encode()
