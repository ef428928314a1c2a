"""EMVCo merchant-presented QR (QRIS flavour) strings with a correct CRC16 (docs/protocol.md §15).

The sandbox returns a real QRIS string naming the Bank Neo Commerce acquirer; the simulator
builds one of the same shape so that QR renderers and parsers meet realistic input.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["build_qris", "crc16_ccitt", "parse_emv"]

ACQUIRER_GUID = "ID.CO.BANKNEOCOMMERCE.WWW"
QRIS_GUID = "ID.CO.QRIS.WWW"


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), the checksum of EMV tag 63."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMV tag {tag} value longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def _ascii(text: str, limit: int) -> str:
    """Printable ASCII only (EMV ``ans``), cut to ``limit`` characters."""
    cleaned = "".join(ch for ch in text if 32 <= ord(ch) < 127).strip()
    return (cleaned or "-")[:limit]


def _amount(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value:.2f}"


def build_qris(
    *,
    amount: Decimal,
    merchant_pan: str,
    merchant_id: str,
    nmid: str,
    bill_number: str,
    merchant_name: str = "AYOLINX SIMULATOR",
    city: str = "JAKARTA",
    postal_code: str = "10110",
    mcc: str = "5999",
) -> str:
    """A dynamic (point of initiation ``12``) QRIS string for ``amount`` IDR, CRC included."""
    acquirer = _tlv("00", ACQUIRER_GUID) + _tlv("01", merchant_pan) + _tlv("02", merchant_id)
    acquirer += _tlv("03", "UMI")
    qris = _tlv("00", QRIS_GUID) + _tlv("02", nmid) + _tlv("03", "UMI")
    additional = _tlv("01", _ascii(bill_number, 25)) + _tlv("07", "A01")
    payload = "".join(
        (
            _tlv("00", "01"),
            _tlv("01", "12"),
            _tlv("26", acquirer),
            _tlv("51", qris),
            _tlv("52", mcc),
            _tlv("53", "360"),
            _tlv("54", _amount(amount)),
            _tlv("58", "ID"),
            _tlv("59", _ascii(merchant_name, 25)),
            _tlv("60", _ascii(city, 15)),
            _tlv("61", postal_code),
            _tlv("62", additional),
            "6304",
        )
    )
    return payload + f"{crc16_ccitt(payload.encode('ascii')):04X}"


def parse_emv(payload: str) -> dict[str, str]:
    """Split a top-level EMV TLV string into ``{tag: value}``; raises ``ValueError`` if the
    structure or the CRC (tag 63) is wrong."""
    fields: dict[str, str] = {}
    index = 0
    while index < len(payload):
        if index + 4 > len(payload):
            raise ValueError("truncated EMV tag")
        tag, length_text = payload[index : index + 2], payload[index + 2 : index + 4]
        if not (length_text.isascii() and length_text.isdigit()):
            raise ValueError(f"bad length for EMV tag {tag}")
        length = int(length_text)
        value = payload[index + 4 : index + 4 + length]
        if len(value) != length:
            raise ValueError(f"truncated value for EMV tag {tag}")
        fields[tag] = value
        index += 4 + length
    crc = fields.get("63")
    if crc is None or not payload.endswith(crc):
        raise ValueError("EMV payload has no trailing CRC (tag 63)")
    expected = crc16_ccitt(payload[:-4].encode("ascii"))
    if crc.upper() != f"{expected:04X}":
        raise ValueError("EMV CRC mismatch")
    return fields
