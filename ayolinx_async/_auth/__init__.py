"""Access-token handling."""

from .stores import MemoryTokenStore, TokenStore, token_store_key
from .token import AccessToken, RefreshPolicy, TokenCache

__all__ = [
    "AccessToken",
    "MemoryTokenStore",
    "RefreshPolicy",
    "TokenCache",
    "TokenStore",
    "token_store_key",
]
