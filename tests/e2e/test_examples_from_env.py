"""The example apps read their settings through ``CallbackHandler.from_env``: a missing
variable stops start-up with a message naming it, never a ``KeyError`` (issue 14)."""

from __future__ import annotations

import pytest

from ayolinx_async import ConfigurationError
from tests._servers import load_example


@pytest.mark.parametrize("name", ["fastapi_app", "aiohttp_app"])
def test_a_missing_variable_is_named(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AYOLINX_PUBLIC_KEY", "AYOLINX_PUBLIC_KEY_FILE", "AYOLINX_CALLBACK_PATH"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AYOLINX_CLIENT_KEY", "CK-example")
    monkeypatch.setenv("AYOLINX_CLIENT_SECRET", "SK-example-0123456789")
    example = load_example(name)
    with pytest.raises(ConfigurationError, match="AYOLINX_PUBLIC_KEY or AYOLINX_PUBLIC_KEY_FILE"):
        example.app_from_env()


def test_the_shop_needs_its_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_PUBLIC_URL", raising=False)
    with pytest.raises(SystemExit, match="SHOP_PUBLIC_URL"):
        load_example("shop_app").app_from_env()
