"""Access-token handling."""

from .token import AccessToken, RefreshPolicy, TokenCache

__all__ = ["AccessToken", "RefreshPolicy", "TokenCache"]
