"""The capture package stays importable everywhere: no front-end or heavy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import sys
import mlvc_server.capture as c
c.environment(); c.hardware(); c.local_sources(__import__('pathlib').Path('.'))
c.select_variables({'x': 1})
bad = [m for m in ('torch', 'IPython', 'tornado', 'jupyter_server', 'ipykernel')
       if m in sys.modules]
assert not bad, bad
"""


def test_capture_imports_no_frontend_or_torch() -> None:
    subprocess.run([sys.executable, "-c", CODE], check=True, cwd=REPO)
