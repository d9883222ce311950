"""Argument parsing shared by the ``mlvc`` CLI and the ``%mlvc`` magics (no heavy imports)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def parse_kv(text: str) -> tuple[str, Any]:
    """``k=v`` with ``v`` parsed as JSON when it parses, else kept as a string."""
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
