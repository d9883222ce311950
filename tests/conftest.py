"""Shared pytest setup.

The Jupyter server fixtures (``jp_fetch``, ``jp_serverapp``, ``jp_root_dir``...) come
from pytest-jupyter. Every server a test starts has the mlvc extension enabled and
refuses requests without credentials, so tests prove each endpoint is protected.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config: Any) -> dict[str, Any]:
    """Server configuration for tests: mlvc enabled, authentication required, root allowed."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"mlvc_server": True},
            "allow_unauthenticated_access": False,
            "allow_root": True,
        }
    }


@pytest.fixture
def loose_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write every object loose (no small-object packs), for tests that damage or remove
    one object's file to check what the store then does."""
    from mlvc_server.store import repo

    monkeypatch.setattr(repo, "PACK_OBJECT_MAX", -1)
