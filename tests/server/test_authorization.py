"""Every route checks authorization for the resource ``mlvc`` (``@authorized``), or
``mlvc-registry`` for the model registry's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer

from .conftest import Fetch
from .test_auth import OPERATIONS, call


class NoMlvc(Authorizer):  # type: ignore[misc]
    """Allows everything but the resources ``mlvc`` and ``mlvc-registry``."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        """Refuse ``mlvc`` and ``mlvc-registry``, allow the rest."""
        return resource not in ("mlvc", "mlvc-registry")


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """A server whose users may not use mlvc."""
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": NoMlvc},
    }


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
async def test_every_route_refuses_a_user_not_authorized_for_mlvc(
    jp_fetch: Fetch, notebook: Path, method: str, template: str
) -> None:
    code, body = await call(jp_fetch, method, template, {})

    assert code == 403
    assert "mlvc" in body["message"] or "not authorized" in body["message"].lower()
