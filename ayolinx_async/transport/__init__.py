"""Pluggable HTTP transports."""

from .base import HttpRequest, HttpResponse, Timeout, Transport
from .httpx import HttpxTransport

__all__ = ["HttpRequest", "HttpResponse", "HttpxTransport", "Timeout", "Transport"]
