"""openapi.yaml is valid OpenAPI 3, and a schemathesis fuzz run over it against a live
server finds no 5xx and no response that breaks the spec (tests/server/fuzz.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import mlvc_server

from . import fuzz

SPEC_PATH = Path(mlvc_server.__file__).parent / "openapi.yaml"


def test_the_spec_is_valid_openapi() -> None:
    from schemathesis import openapi

    schema = openapi.from_path(SPEC_PATH)
    operations = [op for op in schema.get_all_operations() if op.ok()]

    assert len(operations) == 41
    spec = yaml.safe_load(SPEC_PATH.read_text())
    assert spec["openapi"].startswith("3.")


@pytest.mark.timeout(900)
def test_fuzzing_finds_no_server_error_and_no_response_off_the_spec(tmp_path: Path) -> None:
    # a short run (10 cases per operation and phase); the README's command runs 30
    code = fuzz.main(["-n", "10", "--seed", "7", "--keep", str(tmp_path / "fuzz")])

    assert code == 0, "schemathesis found failures: see its report above"
