"""What every resource group shares: the client handle and the request-or-keywords rules."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from .._config import Environment
from .._endpoints import Endpoint, PaymentProduct
from .._errors import (
    ConfigurationError,
    OutcomeUnknownError,
    ResponseDecodeError,
    ValidationError,
)
from .._frozen import maker
from .._gate import Lent, Queued, on_asyncio, settle
from .._response import APIResponse
from .._retries import coerce_timeout, min_attempt
from .._wire import body_channel, body_reference, validate_external_id
from ..models._checks import UrlParam
from ..models._common import ResponseModel
from ..models._fields import compile_function
from ..transport._base import Timeout

if TYPE_CHECKING:
    from .._client import AyolinxClient

_T = TypeVar("_T")
_M = TypeVar("_M")
_Request = TypeVar("_Request", bound="_WireModel")
_Response = TypeVar("_Response", bound=ResponseModel)

#: Keywords of a resource method that are about the call, not the request model.
_CALL_KEYWORDS = frozenset({"self", "request", "external_id", "timeout", "track"})
#: Shortcuts that become ``urlParams`` entries.
_URL_SHORTCUTS = ("notification_url", "return_url")


class _WireModel(Protocol):
    def to_wire(self) -> dict[str, Any]: ...


def required(field: str, value: _T | None) -> _T:
    """A keyword the endpoint cannot do without; missing → ``ValidationError`` naming it."""
    if value is None:
        raise ValidationError(field, "is required")
    return value


def only_request(request: object, given: Mapping[str, object]) -> None:
    """Refuse a request model mixed with per-field keywords (which one would win is unclear)."""
    mixed = sorted(name for name, value in given.items() if value is not None)
    if mixed:
        raise ValidationError(
            "request",
            f"pass either a {type(request).__name__} or keyword arguments, not both"
            f" (also got: {', '.join(mixed)})",
        )


def build_request(
    model: type[_M],
    request: _M | None,
    keywords: Mapping[str, Any],
    **defaults: Any,
) -> _M:
    """The request a resource method sends: ``request`` as given, or ``model`` built from the
    method's keywords (its ``locals()``), where ``None`` means "not given".

    ``notification_url`` / ``return_url`` join ``url_params``; ``defaults`` (the resource's
    own settings) fill keywords left out; a model field without a default that is still
    missing is a ``ValidationError`` naming it, checked in the method's keyword order.
    """
    return _build(model, request, keywords, defaults)


def _build(
    model: type[_M], request: _M | None, keywords: Mapping[str, Any], defaults: Mapping[str, Any]
) -> _M:
    """:func:`build_request` with the defaults as one mapping (what ``Resource._call`` has)."""
    if request is not None:
        only_request(request, {k: v for k, v in keywords.items() if k not in _CALL_KEYWORDS})
        return request
    shape = (model, tuple(keywords), tuple(defaults))
    build = _KEYWORD_BUILDERS.get(shape)
    if build is None:
        build = _KEYWORD_BUILDERS[shape] = _compile_keyword_builder(*shape)
    return build(keywords, defaults)  # type: ignore[no-any-return]


def _build_general(model: type[_M], keywords: Mapping[str, Any], defaults: Mapping[str, Any]) -> _M:
    """:func:`build_request` from keywords, read generically (the compiled builders' reference,
    held to it by the tests)."""
    # One pass over the method's keywords: the given ones, ``None`` meaning "not given".
    values = {
        name: value
        for name, value in keywords.items()
        if value is not None and name not in _CALL_KEYWORDS
    }
    if "url_params" in keywords:
        shortcuts = {name: values.pop(name, None) for name in _URL_SHORTCUTS if name in keywords}
        values["url_params"] = build_url_params(values.pop("url_params", None), **shortcuts)
    for name, value in defaults.items():
        values.setdefault(name, value)
    mandatory = _mandatory(model)
    if not mandatory <= values.keys():
        for name in keywords:
            if name in mandatory and name not in values:
                raise ValidationError(name, "is required")
    return maker(model)(**values)


#: Per (model, the method's keyword names, the resource defaults' names): the compiled
#: :func:`_build_general`, reading each keyword once with no per-call sets or loops.
_KEYWORD_BUILDERS: dict[tuple[type, tuple[str, ...], tuple[str, ...]], Callable[..., Any]] = {}


def _compile_keyword_builder(
    model: type, names: tuple[str, ...], default_names: tuple[str, ...]
) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Any]:
    """:func:`_build_general` for one method's keyword names, as straight-line code."""
    given = [name for name in names if name not in _CALL_KEYWORDS]
    local = {name: f"k{index}" for index, name in enumerate(given)}
    lines = ["def build(keywords, defaults):"]
    lines += [f"    {local[name]} = keywords[{name!r}]" for name in given]
    passed: set[str] = set()  # sent even when None (as ``setdefault`` puts a None default)
    if "url_params" in names:
        shortcuts = [name for name in _URL_SHORTCUTS if name in names]
        arguments = ", ".join(f"{name}={local.pop(name)}" for name in shortcuts)
        lines.append(f"    url = build_url_params({local['url_params']}, {arguments})")
        local["url_params"] = "url"
        passed.add("url_params")
    for index, name in enumerate(default_names):
        if name in local and name not in passed:
            lines.append(f"    if {local[name]} is None: {local[name]} = defaults[{name!r}]")
        else:
            local[name] = f"d{index}"
            lines.append(f"    {local[name]} = defaults[{name!r}]")
        passed.add(name)
    mandatory = _mandatory(model)
    for name in names:
        if name in mandatory and name in local and name not in passed:
            lines.append(f"    if {local[name]} is None: required({name!r}, None)")
    lines.append("    values = {}")
    for name, variable in local.items():
        if name in passed:
            lines.append(f"    values[{name!r}] = {variable}")
        else:
            lines.append(f"    if {variable} is not None: values[{name!r}] = {variable}")
    lines.append("    return make(**values)")
    namespace: dict[str, Any] = {
        "make": maker(model),
        "build_url_params": build_url_params,
        "required": required,
    }
    built: Callable[[Mapping[str, Any], Mapping[str, Any]], Any] = compile_function(
        lines, namespace
    )
    return built


_MANDATORY: dict[type, frozenset[str]] = {}


def _mandatory(model: type) -> frozenset[str]:
    """The fields of ``model`` without a default (classes do not change: cached)."""
    names = _MANDATORY.get(model)
    if names is None:
        names = _MANDATORY[model] = frozenset(
            field.name for field in attrs.fields(model) if field.default is attrs.NOTHING
        )
    return names


def build_url_params(
    params: Iterable[UrlParam] | None,
    *,
    notification_url: str | None = None,
    return_url: str | None = None,
) -> tuple[UrlParam, ...]:
    """``urlParams`` from explicit entries plus the ``notification_url`` / ``return_url``
    shortcuts (types NOTIFICATION and PAY_RETURN)."""
    result: list[UrlParam] = []
    if params is not None:
        if isinstance(params, str | bytes | Mapping) or not isinstance(params, Iterable):
            raise ValidationError("url_params", "must be a sequence of UrlParam")
        result.extend(params)
    if return_url is not None:
        result.append(UrlParam.pay_return(return_url))
    if notification_url is not None:
        result.append(UrlParam.notification(notification_url))
    return tuple(result)


class PaymentTrackerLike(Protocol):
    """What ``track=`` takes: a ``tracking.PaymentTracker`` (duck-typed: resources sit below it)."""

    async def track_created(
        self, product: PaymentProduct, request: object, body: Mapping[str, Any], response: object
    ) -> object: ...

    async def track_uncertain(
        self, error: OutcomeUnknownError, request: object, body: Mapping[str, Any]
    ) -> object: ...


#: What :meth:`Resource._submit` was given: endpoint, request, reader, external id, timeout,
#: tracker (a plain tuple: built once per call, cheap to keep while the call waits).
_Call = tuple[
    Endpoint,
    "_WireModel",
    Callable[[APIResponse], _T],
    str | None,
    float | Timeout | None,
    "PaymentTrackerLike | None",
]


class Resource:
    """Base of a resource group (``client.qris`` …): validated model in, typed model out."""

    def __init__(self, client: AyolinxClient) -> None:
        self._client = client

    @property
    def is_production(self) -> bool:
        """True when the client talks to the production host (picks per-environment defaults)."""
        return self._client.base_url == Environment.PRODUCTION.base_url

    def _call(
        self,
        endpoint: Endpoint,
        model: type[_Request],
        response: type[_Response],
        keywords: dict[str, Any],
        **defaults: Any,
    ) -> Awaitable[_Response]:
        """A resource method's body: its request (given, or built from its keywords, i.e. its
        ``locals()``) sent to ``endpoint`` and read as ``response``. Validates now and returns
        the send to await: one coroutine less in every typed call's await chain."""
        request = _build(model, keywords["request"], keywords, defaults)
        track = keywords.get("track")
        if track is not None:
            track = self._tracker_for(track)
        external_id, timeout = keywords["external_id"], keywords["timeout"]
        # ``locals()`` is the method frame's own dict, kept as long as the frame while the
        # call waits and runs: read in full now, so let it go.
        keywords.clear()
        return self._submit(endpoint, request, _reader(response), external_id, timeout, track)

    def _submit(
        self,
        endpoint: Endpoint,
        request: _WireModel,
        build: Callable[[APIResponse], _T],
        external_id: str | None,
        timeout: float | Timeout | None,
        track: PaymentTrackerLike | None,
    ) -> Awaitable[_T]:
        """The send of a validated request, to await. A gated call on asyncio takes its slot
        here, or queues for one before its body is rendered and before any coroutine of its
        send exists (:class:`~ayolinx_async._gate.Queued`: a waiting call holds its model and
        one future); the slot is lent to the ``send_call`` below (docs/architecture.md §2,
        step 0). Called from inside the resource method's coroutine, so nothing waits or
        queues before that is awaited."""
        call = (endpoint, request, build, external_id, timeout, track)
        core = self._client._core
        gate = core.gate
        # Typed calls wait here on asyncio with telemetry off (a call's span and metrics
        # start in ``send_call`` and cover its wait; trio waits there too).
        if gate is None or gate.free > 0 or core.telemetry is not None or not on_asyncio():
            # Not gated, or a slot is free: ``send_call`` takes it itself, and nothing between
            # here and there can suspend, so no other call can take it first.
            return self._send(call, None)
        started, patience = _admission(self._client, external_id, timeout)
        waiter = gate.wait(patience)
        if waiter is not None:
            return Queued(gate, waiter, started, patience, Resource._send, (self, call))
        return self._send(call, gate.lend(started, None, patience))

    def _tracker_for(self, track: PaymentTrackerLike | bool | None) -> PaymentTrackerLike | None:
        """``track=True`` means the client's own tracker (the one made with
        ``PaymentTracker(client, ...)``); ``False``/``None`` means none."""
        if track is None or track is False:
            return None
        if track is True:
            found = self._client.tracker
            if found is None:
                raise ConfigurationError(
                    "track=True needs a tracker: create PaymentTracker(client, store=...) first"
                )
            return found  # type: ignore[no-any-return]
        return track

    async def _send(self, call: _Call[_T], lent: Token[Lent | None] | None) -> _T:
        """Serialise the (already validated) model, send it to ``endpoint`` (its path and
        whether it moves money come from the catalogue) and build the typed answer; the
        reference recorded on errors is the one the body names. With ``track=`` the created
        payment (or an uncertain create) is handed to the payment tracker. ``lent``: the
        gate's slot (or the end of the wait for one) this call lends its ``send_call``."""
        endpoint, request, build, external_id, timeout, track = call
        money_moving = endpoint.money_moving
        try:
            try:
                body = request.to_wire()
                api = await self._client.post(
                    endpoint.path,
                    body,
                    money_moving=money_moving,
                    external_id=external_id,
                    timeout=timeout,
                    reference=body_reference(body),
                )
            finally:
                if lent is not None:
                    settle(lent)
            answer = typed_response(api, build, money_moving=money_moving, body=body)
        except OutcomeUnknownError as exc:
            if track is not None:
                # The tracker's polling (reconcile) finds out whether it happened.
                await track.track_uncertain(exc, request, request.to_wire())
            raise
        if track is not None and endpoint.product is not None:
            await track.track_created(endpoint.product, request, request.to_wire(), answer)
        return answer


def _admission(
    client: AyolinxClient, external_id: str | None, timeout: float | Timeout | None
) -> tuple[float, float]:
    """Check before the wait what ``send_call`` would check before queueing (a closed client,
    a bad ``external_id`` or ``timeout``: a bad call fails at once, not after its wait), and
    return the call's start by its clock and how long it may wait for a slot: until
    ``min_attempt`` before its deadline."""
    core = client._core
    if core.closed:
        raise ConfigurationError("this AyolinxClient is closed")
    if external_id:
        validate_external_id(external_id)
    call_timeout = coerce_timeout(timeout) if timeout is not None else client._options.timeout
    return core.clock(), call_timeout.total - min_attempt(call_timeout)


_READERS: dict[type, Callable[[APIResponse], Any]] = {}


def _reader(response: type[_Response]) -> Callable[[APIResponse], _Response]:
    """A callable for ``response.from_response``, made once per class rather than bound once
    per call (a waiting call would hold its own bound method); it looks the method up when
    called, so a patched or overridden ``from_response`` is the one used."""
    reader = _READERS.get(response)
    if reader is None:
        reader = _READERS[response] = functools.partial(_read, response)
    return reader


def _read(response: type[_Response], api: APIResponse) -> _Response:
    return response.from_response(api)


def typed_response(
    api: APIResponse,
    build: Callable[[APIResponse], _T],
    *,
    money_moving: bool,
    body: Mapping[str, Any],
) -> _T:
    """Build the typed model of a success; a parser failure never escapes untyped.

    The parsers are total, so this is a backstop: after a money-moving success (the money may
    have moved) it is :class:`OutcomeUnknownError`, else :class:`ResponseDecodeError`.
    """
    try:
        return build(api)
    except Exception as exc:
        if money_moving:
            raise OutcomeUnknownError(
                path=api.path,
                external_id=api.external_id or "",
                partner_reference_no=body_reference(body),
                attempts=api.attempts,
                cause=exc,
                channel=body_channel(body),
            ) from exc
        raise ResponseDecodeError(
            f"could not read the {api.path or 'API'} response: {type(exc).__name__}: {exc}",
            http_status=api.http_status,
            raw=api.raw,
            external_id=api.external_id,
            headers=api.headers,
        ) from exc
