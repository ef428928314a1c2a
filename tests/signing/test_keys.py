"""Every key format loads; every bad key fails with ConfigurationError and no key text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ayolinx_async import AyolinxClient, ConfigurationError, Credentials, Environment
from ayolinx_async.signing import load_private_key, load_public_key

_ENC = serialization.Encoding
_PRIV = serialization.PrivateFormat
_PUB = serialization.PublicFormat
_NONE = serialization.NoEncryption()


def _private_forms(key: rsa.RSAPrivateKey) -> dict[str, bytes]:
    return {
        "pkcs1-pem": key.private_bytes(_ENC.PEM, _PRIV.TraditionalOpenSSL, _NONE),
        "pkcs8-pem": key.private_bytes(_ENC.PEM, _PRIV.PKCS8, _NONE),
        "pkcs8-der": key.private_bytes(_ENC.DER, _PRIV.PKCS8, _NONE),
        "pkcs1-der": key.private_bytes(_ENC.DER, _PRIV.TraditionalOpenSSL, _NONE),
    }


def _same(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


@pytest.mark.parametrize("form", ["pkcs1-pem", "pkcs8-pem", "pkcs8-der", "pkcs1-der"])
def test_private_key_forms_load_from_bytes_str_and_path(
    form: str, merchant_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    data = _private_forms(merchant_key)[form]
    assert _same(load_private_key(data), merchant_key)
    if form.endswith("pem"):
        assert data.startswith(
            b"-----BEGIN RSA PRIVATE KEY" if "pkcs1" in form else b"-----BEGIN PRIVATE KEY"
        )
        assert _same(load_private_key(data.decode()), merchant_key)
    path = tmp_path / f"key.{form}"
    path.write_bytes(data)
    assert _same(load_private_key(path), merchant_key)
    assert _same(load_private_key(str(path)), merchant_key)


def test_encrypted_pkcs8_with_password(merchant_key: rsa.RSAPrivateKey) -> None:
    pem = merchant_key.private_bytes(
        _ENC.PEM, _PRIV.PKCS8, serialization.BestAvailableEncryption(b"s3cret-pass")
    )
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert _same(load_private_key(pem, "s3cret-pass"), merchant_key)
    assert _same(load_private_key(pem, b"s3cret-pass"), merchant_key)


def test_key_object_passes_through(merchant_key: rsa.RSAPrivateKey) -> None:
    assert load_private_key(merchant_key) is merchant_key


def test_public_key_forms(merchant_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    pub = merchant_key.public_key()
    forms = [
        pub.public_bytes(_ENC.PEM, _PUB.SubjectPublicKeyInfo),
        pub.public_bytes(_ENC.DER, _PUB.SubjectPublicKeyInfo),
        pub.public_bytes(_ENC.PEM, _PUB.PKCS1),
    ]
    assert forms[2].startswith(b"-----BEGIN RSA PUBLIC KEY")
    for data in forms:
        assert load_public_key(data).public_numbers() == pub.public_numbers()
    path = tmp_path / "pub.pem"
    path.write_bytes(forms[0])
    assert load_public_key(path).public_numbers() == pub.public_numbers()
    assert load_public_key(forms[0].decode()).public_numbers() == pub.public_numbers()


_KEY_TEXT = re.compile(r"MII[A-Za-z0-9+/]{8}|BEGIN|PRIVATE KEY-----")


def _assert_clean(exc: BaseException, secret: str | bytes) -> None:
    message = str(exc)
    assert not _KEY_TEXT.search(message), message
    text = secret.decode(errors="ignore") if isinstance(secret, bytes) else secret
    for line in text.splitlines():
        if len(line) > 16:
            assert line not in message


def test_bad_keys_raise_configuration_error_without_key_text(
    merchant_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pkcs8 = merchant_key.private_bytes(_ENC.PEM, _PRIV.PKCS8, _NONE)
    encrypted = merchant_key.private_bytes(
        _ENC.PEM, _PRIV.PKCS8, serialization.BestAvailableEncryption(b"right")
    )
    corrupt = pkcs8.replace(pkcs8[100:140], b"A" * 40)
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(_ENC.PEM, _PRIV.PKCS8, _NONE)
    cases: list[tuple[object, object, str]] = [
        (
            b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
            None,
            "could not load",
        ),
        (corrupt, None, "could not load"),
        (encrypted, "wrong", "could not load"),
        (encrypted, None, "password is required"),
        (pkcs8, "unneeded", "not encrypted"),
        (ec_key, None, "expected an RSA key"),
        (b"\x00\x01garbage-der", None, "private_key"),
        ("line one\nline two", None, "neither a PEM block nor a file path"),
        (str(tmp_path / "missing.pem"), None, "readable key file"),
        (12345, None, "unsupported type"),
    ]
    for source, password, expected in cases:
        with pytest.raises(ConfigurationError) as info:
            load_private_key(source, password)  # type: ignore[arg-type]
        assert expected in str(info.value), (expected, str(info.value))
        # A file path is not secret and is named in the message; key text never is.
        secret = source if isinstance(source, bytes) or expected != "readable key file" else ""
        secret = secret if isinstance(secret, bytes | str) else ""
        _assert_clean(info.value, secret)


def test_small_key_rejected_for_production_only(credentials: Credentials) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    creds = Credentials(client_key="CK", client_secret="SK", private_key=small)
    with pytest.raises(ConfigurationError, match="1024 bits; at least 2048"):
        AyolinxClient(creds, environment=Environment.PRODUCTION)
    AyolinxClient(creds, environment=Environment.SANDBOX)  # allowed for local testing


def test_garbage_public_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="could not load the public key") as info:
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    _assert_clean(info.value, "")
    ec_pub = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(_ENC.PEM, _PUB.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigurationError, match="expected an RSA key"):
        load_public_key(ec_pub)


def test_unarmoured_base64_key_is_never_echoed(merchant_key: rsa.RSAPrivateKey) -> None:
    """A pasted base64 DER key (no PEM armour) is key text, not a path: never in the message."""
    import base64

    der = merchant_key.private_bytes(_ENC.DER, _PRIV.PKCS8, _NONE)
    blob = base64.b64encode(der).decode()
    with pytest.raises(ConfigurationError) as info:
        load_private_key(blob)
    assert blob[:40] not in str(info.value)
    assert "neither a PEM block nor a file path" in str(info.value)


@pytest.mark.parametrize("blob", ["QUJD" * 200, "QUJD" * 70 + "/" + "QUJD" * 70])
def test_a_long_base64_run_is_refused_without_echoing_it(blob: str) -> None:
    """Whether a pasted base64 key has a run of over 255 characters between slashes depends on
    the key: such a run made ``Path.exists`` raise "file name too long" with the key text as
    its message (seen once in CI with a random key). It is a ConfigurationError, text unseen."""
    with pytest.raises(ConfigurationError) as info:
        load_private_key(blob)
    assert "QUJDQUJD" not in str(info.value)
    assert "neither a PEM block nor a file path" in str(info.value)


def _base64_key(key: rsa.RSAPrivateKey) -> str:
    """The key as people paste it without armour, with slashes in it (base64 of DER)."""
    import base64

    text = base64.b64encode(key.private_bytes(_ENC.DER, _PRIV.PKCS8, _NONE)).decode()
    return text if "/" in text else "QUJD/" + text


def test_key_text_given_as_a_path_is_never_echoed(merchant_key: rsa.RSAPrivateKey) -> None:
    """``AYOLINX_PRIVATE_KEY_FILE`` holding the key itself reaches the loader as a ``Path``:
    its read failed, and the message quoted the "path" when it had a slash, which base64 has
    (a crash reporter printing locals showed it too: a ``Path`` is not redacted)."""
    blob = _base64_key(merchant_key)
    env = {
        "AYOLINX_CLIENT_KEY": "CK",
        "AYOLINX_CLIENT_SECRET": "s",
        "AYOLINX_PRIVATE_KEY_FILE": blob,
    }
    for attempt in (
        lambda: load_private_key(Path(blob)),
        lambda: AyolinxClient(Credentials.from_env(env)),
    ):
        with pytest.raises(ConfigurationError) as info:
            attempt()
        message = str(info.value)
        assert message == "private_key: text is neither a PEM block nor a file path"
        for piece in blob.split("/"):
            assert len(piece) < 12 or piece not in message


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/etc/ayolinx/merchant_private.pem", True),
        ("~/keys/private.pem", True),
        ("keys/merchant.key", True),
        ("/home/someone/projects/merchant-keys/sandbox/private_2048.pem", True),
        ("private", False),  # not path-like: may be a pasted secret
        ("abc/" + "A1b2C3d4" * 5, False),  # a 40-character base64 run
        ("/a/" + "b" * 300, False),  # longer than any file name
    ],
)
def test_a_path_is_quoted_only_when_it_reads_as_one(text: str, shown: bool) -> None:
    from ayolinx_async.signing._keys import shown_path

    assert shown_path(text) == (repr(text) if shown else f"({len(text)} characters)")


def test_rotation_file_with_two_keys_loads_both(
    tmp_path: Path, merchant_key: rsa.RSAPrivateKey
) -> None:
    from ayolinx_async.callbacks import load_public_keys

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pems = b"".join(
        k.public_key().public_bytes(_ENC.PEM, _PUB.SubjectPublicKeyInfo)
        for k in (merchant_key, other)
    )
    path = tmp_path / "ayolinx_keys.pem"
    path.write_bytes(pems)
    assert len(load_public_keys(path)) == 2
    assert len(load_public_keys(str(path))) == 2
    assert len(load_public_keys(pems)) == 2


def test_a_pem_with_literal_backslash_n_loads_as_dotenv_and_kubernetes_hold_it(
    merchant_key: rsa.RSAPrivateKey, merchant_private_pem: bytes
) -> None:
    flat = merchant_private_pem.decode("ascii").strip().replace("\n", "\\n")
    assert "\n" not in flat
    key = load_private_key(flat)
    assert key.private_numbers() == merchant_key.private_numbers()
    crlf = merchant_private_pem.decode("ascii").strip().replace("\n", "\\r\\n")
    assert load_private_key(crlf).private_numbers() == merchant_key.private_numbers()


@pytest.mark.parametrize("pasted", ["hunter2-secret", "abc123", "SKSandbox-0f1e2d3c"])
def test_a_short_non_pem_string_is_never_echoed(pasted: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_private_key(pasted)
    assert pasted not in str(info.value)
    assert f"({len(pasted)} characters)" in str(info.value)


def test_a_real_looking_missing_path_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "merchant.pem")
    with pytest.raises(ConfigurationError) as info:
        load_private_key(missing)
    assert repr(missing) in str(info.value)
