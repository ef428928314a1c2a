"""Render a QRIS ``qrContent`` string as a picture: SVG, PNG or terminal text.

Needs the optional ``[qr]`` extra (segno, pure Python). segno is imported lazily so the core
install stays light; without it every function raises :class:`ConfigurationError`.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ._errors import ConfigurationError, ValidationError

if TYPE_CHECKING:
    import segno

__all__ = ["qr_png", "qr_svg", "qr_terminal"]

_INSTALL_HINT = 'QR rendering needs segno: pip install "ayolinx-async[qr]"'


def _make(content: str) -> segno.QRCode:
    """Encode ``content`` as a regular (never micro) QR code with error level M or better."""
    if not isinstance(content, str) or not content:
        raise ValidationError("qr_content", "must be a non-empty string")
    try:
        import segno
    except ImportError:
        raise ConfigurationError(_INSTALL_HINT) from None
    # QRIS (EMVCo MPM) payloads are scanned by every wallet app; micro QR is not allowed.
    return segno.make(content, error="m", micro=False)


def qr_svg(
    content: str, *, scale: int = 4, border: int = 4, dark: str = "#000", light: str = "#fff"
) -> str:
    """The QR code as a standalone SVG document (``scale`` pixels per module)."""
    buffer = io.BytesIO()
    _make(content).save(buffer, kind="svg", scale=scale, border=border, dark=dark, light=light)
    return buffer.getvalue().decode("utf-8")


def qr_png(content: str, *, scale: int = 8, border: int = 4) -> bytes:
    """The QR code as PNG bytes (``scale`` pixels per module)."""
    buffer = io.BytesIO()
    _make(content).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_terminal(content: str, *, border: int = 2) -> str:
    """The QR code drawn with Unicode half blocks, two modules per character row."""
    buffer = io.StringIO()
    _make(content).terminal(out=buffer, compact=True, border=border)
    return buffer.getvalue()
