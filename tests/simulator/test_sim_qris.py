"""EMV QRIS strings: CRC16/CCITT-FALSE known answers, structure, tamper detection."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ayolinx_async.simulator import build_qris, crc16_ccitt, parse_emv


def _qr(**overrides: object) -> str:
    args: dict[str, object] = {
        "amount": Decimal("10000.00"),
        "merchant_pan": "9360050300000012345",
        "merchant_id": "000000000012345",
        "nmid": "ID1020304050607",
        "bill_number": "ORD-1",
    }
    args.update(overrides)
    return build_qris(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "crc"),
    [(b"123456789", 0x29B1), (b"", 0xFFFF), (b"A", 0xB915)],
)
def test_crc16_ccitt_false_known_answers(data: bytes, crc: int) -> None:
    assert crc16_ccitt(data) == crc


def test_dynamic_qris_structure() -> None:
    fields = parse_emv(_qr())
    assert fields["00"] == "01"
    assert fields["01"] == "12"  # dynamic
    assert fields["26"].startswith("0025ID.CO.BANKNEOCOMMERCE.WWW")
    assert fields["51"].startswith("0014ID.CO.QRIS.WWW")
    assert fields["53"] == "360"
    assert fields["54"] == "10000"
    assert fields["58"] == "ID"
    assert fields["62"] == "0105ORD-10703A01"
    assert list(fields)[-1] == "63"


def test_amount_with_cents_and_ascii_only_names() -> None:
    fields = parse_emv(
        _qr(amount=Decimal("10000.50"), merchant_name="Toko Café Ñusantara Jaya Abadi")
    )
    assert fields["54"] == "10000.50"
    assert fields["59"] == "Toko Caf usantara Jaya Ab"  # printable ASCII, 25 chars max
    long_ref = parse_emv(_qr(bill_number="X" * 40))
    assert long_ref["62"].startswith("0125" + "X" * 25)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s[:-1] + ("0" if s[-1] != "0" else "1"), "CRC mismatch"),
        (lambda s: s.replace("10000", "90000"), "CRC mismatch"),
        (lambda s: s[:-8], "truncated|no trailing CRC"),
        (lambda s: "00AB" + s, "bad length"),
    ],
)
def test_tampering_is_detected(mutate: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_emv(mutate(_qr()))  # type: ignore[operator]


def test_overlong_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 99"):
        _qr(merchant_pan="9" * 120)
