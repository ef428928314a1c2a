"""Signing: pure string-to-sign builders, key loading, signing strategies, verification."""

from ._keys import PrivateKeySource, PublicKeySource, load_private_key, load_public_key
from ._signers import LocalSigner, Signer
from ._strings import (
    body_digest,
    callback_string_to_sign,
    service_string_to_sign,
    token_string_to_sign,
)
from ._verify import hmac_signature, rsa_signature, verify_hmac, verify_rsa

__all__ = [
    "LocalSigner",
    "PrivateKeySource",
    "PublicKeySource",
    "Signer",
    "body_digest",
    "callback_string_to_sign",
    "hmac_signature",
    "load_private_key",
    "load_public_key",
    "rsa_signature",
    "service_string_to_sign",
    "token_string_to_sign",
    "verify_hmac",
    "verify_rsa",
]
