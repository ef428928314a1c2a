"""Open enums: a code Ayolinx adds tomorrow is kept, not rejected (docs/protocol.md §0), and
``is_known`` tells the two apart."""

from __future__ import annotations

import enum
from typing import Any, Self

__all__ = ["Channel", "TransactionStatus", "UrlParamType", "ValidUpToFormat"]


class _OpenStrEnum(enum.StrEnum):
    """A string enum that keeps unknown values as pseudo-members instead of raising."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        return self._name_ != "UNKNOWN"

    @classmethod
    def known(cls, value: str) -> Self | None:
        """The member for a known code, else ``None``: one dict lookup, for parsers on the hot
        path (a known code is valid by definition, so it needs no further checks)."""
        members = _MEMBERS.get(cls)
        if members is None:
            members = _MEMBERS[cls] = {member.value: member for member in cls}
        return members.get(value)  # type: ignore[return-value]


_MEMBERS: dict[type, dict[str, _OpenStrEnum]] = {}


class TransactionStatus(_OpenStrEnum):
    """``latestTransactionStatus`` (docs/protocol.md §14). Compare with ``==``; unknown codes
    pass through."""

    SUCCESS = "00"
    INITIATED = "01"
    PAYING = "02"
    PENDING = "03"
    REFUNDED = "04"
    CANCELED = "05"
    FAILED = "06"
    NOT_FOUND = "07"

    @property
    def is_terminal(self) -> bool:
        """True for a final state (00, 04, 05, 06); unknown codes are not assumed final."""
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        return self is TransactionStatus.SUCCESS


_TERMINAL = frozenset(
    {
        TransactionStatus.SUCCESS,
        TransactionStatus.REFUNDED,
        TransactionStatus.CANCELED,
        TransactionStatus.FAILED,
    }
)


class Channel(_OpenStrEnum):
    """``additionalInfo.channel`` codes seen on Ayolinx pages and integrations
    (docs/protocol.md §15)."""

    BNC_QRIS = "BNC_QRIS"
    EMONEY_DANA_SNAP = "EMONEY_DANA_SNAP"
    VIRTUAL_ACCOUNT_BNI = "VIRTUAL_ACCOUNT_BNI"
    VIRTUAL_ACCOUNT_CIMB = "VIRTUAL_ACCOUNT_CIMB"
    VIRTUAL_ACCOUNT_MANDIRI = "VIRTUAL_ACCOUNT_MANDIRI"
    VIRTUAL_ACCOUNT_BRI = "VIRTUAL_ACCOUNT_BRI"
    VIRTUAL_ACCOUNT_BCA = "VIRTUAL_ACCOUNT_BCA"
    VIRTUAL_ACCOUNT_PERMATA = "VIRTUAL_ACCOUNT_PERMATA"
    RETAIL_ALFAMART = "RETAIL_ALFAMART"
    RETAIL_ALFAMIDI = "RETAIL_ALFAMIDI"
    RETAIL_PEGADAIAN = "RETAIL_PEGADAIAN"
    RETAIL_POS_INDONESIA = "RETAIL_POS_INDONESIA"
    RETAIL_DANDAN = "RETAIL_DANDAN"

    @property
    def is_virtual_account(self) -> bool:
        return self.value.startswith("VIRTUAL_ACCOUNT_")

    @property
    def is_retail(self) -> bool:
        return self.value.startswith("RETAIL_")


class UrlParamType(_OpenStrEnum):
    """``urlParams[].type``: where callbacks go, and where the payer's browser returns."""

    NOTIFICATION = "NOTIFICATION"
    PAY_RETURN = "PAY_RETURN"


class ValidUpToFormat(enum.Enum):
    """How an expiry such as ``validUpTo`` is rendered where the docs disagree
    (docs/protocol.md §19.12)."""

    #: ``"1746249942"``: Unix seconds as a string, what working DANA integrations send.
    UNIX_SECONDS = "unix_seconds"
    #: ``"2025-05-03T12:25:42+07:00"``: the SNAP / ISO-8601 reading, in Jakarta time.
    ISO_8601 = "iso_8601"
