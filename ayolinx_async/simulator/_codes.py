"""The simulator's ``responseCode`` vocabulary: SNAP ``HTTP status + service + case``
(docs/protocol.md §12).

One table drives both the answers and the published code table (``docs/readme-simulator.md``),
so the two cannot drift apart.
"""

from __future__ import annotations

import enum

import attrs

from .._endpoints import Endpoint

__all__ = [
    "CASES",
    "RETAIL_SUCCESS",
    "Case",
    "Outcome",
    "code_table_markdown",
]


#: Service code for answers that belong to no endpoint (unknown path).
NO_SERVICE = "00"
RETAIL_SUCCESS = "00"


class Case(enum.Enum):
    """The failure cases the simulator produces: HTTP status, case code, SNAP message."""

    BAD_REQUEST = (400, "00", "Bad Request")
    INVALID_FORMAT = (400, "01", "Invalid Field Format")
    MISSING_FIELD = (400, "02", "Invalid Mandatory Field")
    UNAUTHORIZED = (401, "00", "Unauthorized")
    INVALID_TOKEN = (401, "01", "Invalid Token (B2B)")
    NOT_PERMITTED = (403, "15", "Transaction Not Permitted")
    NOT_FOUND = (404, "01", "Transaction Not Found")
    INVALID_ROUTING = (404, "02", "Invalid Routing")
    METHOD_NOT_ALLOWED = (405, "00", "Requested Function Is Not Supported")
    DUPLICATE_EXTERNAL_ID = (409, "00", "Conflict")
    DUPLICATE_REFERENCE = (409, "01", "Duplicate partnerReferenceNo")
    SERVER_ERROR = (500, "01", "Internal Server Error")

    def __init__(self, http_status: int, case: str, message: str) -> None:
        self.http_status = http_status
        self.case = case
        self.message = message


CASES: tuple[Case, ...] = tuple(Case)
_FIELD_CASES = frozenset({Case.INVALID_FORMAT, Case.MISSING_FIELD})


@attrs.frozen(kw_only=True, slots=True)
class Outcome:
    """One answer: HTTP status, ``responseCode`` and ``responseMessage``."""

    http_status: int
    code: str
    message: str

    @classmethod
    def failure(cls, case: Case, service: str, detail: str | None = None) -> Outcome:
        """A SNAP failure: ``<status><service><case>``; ``detail`` names the field or reason."""
        if not detail:
            message = case.message
        elif case in _FIELD_CASES:
            message = f"{case.message} {detail}"  # SNAP: "Invalid Field Format {field}"
        else:
            message = f"{case.message}. {detail}"  # SNAP: "Unauthorized. [reason]"
        return cls(
            http_status=case.http_status,
            code=f"{case.http_status}{service}{case.case}",
            message=message,
        )

    @classmethod
    def success(cls, endpoint: Endpoint) -> Outcome:
        return cls(http_status=200, code=endpoint.success_code, message="Successful")


#: Which cases each kind of endpoint can answer (drives the published table).
_TOKEN_CASES = (
    Case.BAD_REQUEST,
    Case.INVALID_FORMAT,
    Case.MISSING_FIELD,
    Case.UNAUTHORIZED,
    Case.SERVER_ERROR,
)
_SERVICE_CASES = (
    Case.BAD_REQUEST,
    Case.INVALID_FORMAT,
    Case.MISSING_FIELD,
    Case.UNAUTHORIZED,
    Case.INVALID_TOKEN,
    Case.DUPLICATE_EXTERNAL_ID,
    Case.SERVER_ERROR,
)
_CASES_BY_ENDPOINT: dict[Endpoint, tuple[Case, ...]] = {
    Endpoint.TOKEN: _TOKEN_CASES,
    Endpoint.QRIS_GENERATE: (*_SERVICE_CASES, Case.DUPLICATE_REFERENCE),
    Endpoint.QRIS_QUERY: (*_SERVICE_CASES, Case.NOT_FOUND),
    Endpoint.QRIS_CANCEL: (*_SERVICE_CASES, Case.NOT_FOUND, Case.NOT_PERMITTED),
    Endpoint.EWALLET_PAYMENT: (*_SERVICE_CASES, Case.DUPLICATE_REFERENCE),
    Endpoint.EWALLET_STATUS: (*_SERVICE_CASES, Case.NOT_FOUND),
    Endpoint.VA_CREATE: (*_SERVICE_CASES, Case.DUPLICATE_REFERENCE),
    Endpoint.VA_INQUIRY: (*_SERVICE_CASES, Case.NOT_FOUND),
    Endpoint.RETAIL_CREATE: (*_SERVICE_CASES, Case.DUPLICATE_REFERENCE),
    Endpoint.RETAIL_QUERY: (*_SERVICE_CASES, Case.NOT_FOUND),
    Endpoint.PAYMENT_LINK_CREATE: (*_SERVICE_CASES, Case.DUPLICATE_REFERENCE),
}

_WHEN: dict[Case, str] = {
    Case.BAD_REQUEST: "body is not a JSON object",
    Case.INVALID_FORMAT: "a header or field is malformed (message names it)",
    Case.MISSING_FIELD: "a required header or field is missing (message names it)",
    Case.UNAUTHORIZED: "bad signature, unknown client key, X-PARTNER-ID mismatch, "
    "timestamp outside the window",
    Case.INVALID_TOKEN: "Authorization token unknown, malformed or expired",
    Case.NOT_PERMITTED: "the transaction is already final (paid, failed, …)",
    Case.NOT_FOUND: "no such transaction for this merchant",
    Case.INVALID_ROUTING: "unknown path",
    Case.METHOD_NOT_ALLOWED: "method other than POST",
    Case.DUPLICATE_EXTERNAL_ID: "X-EXTERNAL-ID already used today (Asia/Jakarta day)",
    Case.DUPLICATE_REFERENCE: "partnerReferenceNo (VA: trxId) already used",
    Case.SERVER_ERROR: "injected fault (error_rate / inject)",
}


def code_table_markdown() -> str:
    """The Markdown code table published in ``docs/readme-simulator.md``."""
    lines = [
        "| Endpoint | Path | Success | Failure codes |",
        "|---|---|---|---|",
    ]
    for endpoint in Endpoint:
        failures = ", ".join(
            f"`{case.http_status}{endpoint.service_code}{case.case}`"
            for case in _CASES_BY_ENDPOINT[endpoint]
        )
        lines.append(
            f"| {endpoint.label} | `{endpoint.path}` | `{endpoint.success_code}` | {failures} |"
        )
    lines.append(
        f"| (any) | unknown path / method | — | `{Case.INVALID_ROUTING.http_status}"
        f"{NO_SERVICE}{Case.INVALID_ROUTING.case}`, "
        f"`{Case.METHOD_NOT_ALLOWED.http_status}xx{Case.METHOD_NOT_ALLOWED.case}` |"
    )
    lines += ["", "| Case | HTTP | Message | When |", "|---|---|---|---|"]
    for case in Case:
        lines.append(
            f"| `{case.http_status}xx{case.case}` | {case.http_status} | {case.message} "
            f"| {_WHEN[case]} |"
        )
    return "\n".join(lines) + "\n"


def cases_for(endpoint: Endpoint) -> tuple[Case, ...]:
    """The failure cases ``endpoint`` can answer."""
    return _CASES_BY_ENDPOINT[endpoint]
