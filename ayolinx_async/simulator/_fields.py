"""Strict request-body field checks that answer ``400xx01`` / ``400xx02`` naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .._endpoints import Endpoint
from .._wire import parse_timestamp
from ._auth import Rejected
from ._codes import Case, Outcome

__all__ = ["Fields"]

# ASCII digits and \Z: "\d" takes "²" or Arabic-Indic digits (Decimal/float then raise: a 500),
# "$" takes a trailing newline.
_AMOUNT = re.compile(r"^[0-9]{1,13}\.[0-9]{2}\Z")
_UNIX_SECONDS = re.compile(r"^[0-9]{9,11}\Z")


class Fields:
    """Typed access to a JSON body; every failure raises :class:`Rejected` for ``endpoint``."""

    def __init__(self, data: Mapping[str, Any], endpoint: Endpoint) -> None:
        self._data = data
        self._endpoint = endpoint

    def _fail(self, case: Case, field: str | None) -> Rejected:
        return Rejected(Outcome.failure(case, self._endpoint.service_code, field))

    def raw(self, path: str) -> Any:
        """The value at a dotted ``path``, or None when any part is absent."""
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def obj(self, path: str, *, required: bool = True) -> Mapping[str, Any] | None:
        value = self.raw(path)
        if value is None:
            if required:
                raise self._fail(Case.MISSING_FIELD, path)
            return None
        if not isinstance(value, Mapping):
            raise self._fail(Case.INVALID_FORMAT, path)
        return value

    def text(
        self,
        path: str,
        *,
        required: bool = True,
        max_len: int = 64,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        """A string field; empty counts as missing, too long or off-pattern as malformed."""
        value = self.raw(path)
        if value is None or value == "":
            if required:
                raise self._fail(Case.MISSING_FIELD, path)
            return None
        if not isinstance(value, str) or len(value) > max_len:
            raise self._fail(Case.INVALID_FORMAT, path)
        if pattern is not None and not pattern.match(value):
            raise self._fail(Case.INVALID_FORMAT, path)
        return value

    def required_text(
        self, path: str, *, max_len: int = 64, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.text(path, required=True, max_len=max_len, pattern=pattern)
        if value is None:
            raise self._fail(Case.MISSING_FIELD, path)
        return value

    def amount(self, path: str, *, required: bool = True) -> tuple[Decimal, str] | None:
        """``{"value": "10000.00", "currency": "IDR"}``: a 2-decimal string, IDR only."""
        if self.obj(path, required=required) is None:
            return None
        value = self.required_text(f"{path}.value", max_len=16, pattern=_AMOUNT)
        currency = self.required_text(f"{path}.currency", max_len=3)
        if currency != "IDR":
            raise self._fail(Case.INVALID_FORMAT, f"{path}.currency")
        amount = Decimal(value)
        if amount <= 0:
            raise self._fail(Case.INVALID_FORMAT, f"{path}.value")
        return amount, currency

    def required_amount(self, path: str) -> tuple[Decimal, str]:
        value = self.amount(path, required=True)
        if value is None:
            raise self._fail(Case.MISSING_FIELD, path)
        return value

    def channel(self, *, required: bool = True, prefix: str = "", suffix: str = "") -> str | None:
        """``additionalInfo.channel``; a product only accepts its own channel family."""
        value = self.text("additionalInfo.channel", required=required, max_len=64)
        if value is not None and not (value.startswith(prefix) and value.endswith(suffix)):
            raise self._fail(Case.INVALID_FORMAT, "additionalInfo.channel")
        return value

    def required_channel(self, *, prefix: str = "", suffix: str = "") -> str:
        value = self.channel(required=True, prefix=prefix, suffix=suffix)
        if value is None:
            raise self._fail(Case.MISSING_FIELD, "additionalInfo.channel")
        return value

    def moment(self, path: str, *, required: bool = False, unix: bool = True) -> float | None:
        """An expiry time: ISO-8601 with offset, or (``unix``) Unix seconds as a string."""
        value = self.text(path, required=required, max_len=35)
        if value is None:
            return None
        if unix and _UNIX_SECONDS.match(value):
            return float(value)
        try:
            return parse_timestamp(value).timestamp()
        except ValueError:
            raise self._fail(Case.INVALID_FORMAT, path) from None

    def required_moment(self, path: str, *, unix: bool = True) -> float:
        value = self.moment(path, required=True, unix=unix)
        if value is None:
            raise self._fail(Case.MISSING_FIELD, path)
        return value

    def url_params(self) -> dict[str, str]:
        """``urlParams``: ``[{"url": ..., "type": ...}]`` → ``{type: url}``."""
        value = self.raw("urlParams")
        if value is None:
            return {}
        if not isinstance(value, list):
            raise self._fail(Case.INVALID_FORMAT, "urlParams")
        found: dict[str, str] = {}
        for index, item in enumerate(value):
            where = f"urlParams[{index}]"
            if not isinstance(item, Mapping):
                raise self._fail(Case.INVALID_FORMAT, where)
            url, kind = item.get("url"), item.get("type")
            if not url:
                raise self._fail(Case.MISSING_FIELD, f"{where}.url")
            if not kind:
                raise self._fail(Case.MISSING_FIELD, f"{where}.type")
            if not isinstance(url, str) or not isinstance(kind, str) or len(url) > 512:
                raise self._fail(Case.INVALID_FORMAT, where)
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise self._fail(Case.INVALID_FORMAT, f"{where}.url")
            found.setdefault(kind.upper(), url)
        return found

    def items(self, path: str) -> list[Mapping[str, Any]]:
        """A required, non-empty array of objects."""
        value = self.raw(path)
        if value is None or value == []:
            raise self._fail(Case.MISSING_FIELD, path)
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self._fail(Case.INVALID_FORMAT, path)
        return value

    def strings(self, path: str) -> list[str]:
        """A required, non-empty array of non-empty strings."""
        value = self.raw(path)
        if value is None or value == []:
            raise self._fail(Case.MISSING_FIELD, path)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(Case.INVALID_FORMAT, path)
        return value

    def fail(self, case: Case, field: str | None = None) -> Rejected:
        """A :class:`Rejected` for a rule the caller checks itself (``field`` names the input)."""
        return self._fail(case, field)
