"""Capture: what a commit records about a run besides the notebook.

- :func:`select_variables`: which of the kernel's variables to store.
- :class:`DataHasher` / :func:`hash_file`: BLAKE3 hashes of data files, with a stat cache.
- :func:`local_sources`: the project's own ``.py`` files that the code imported.
- :func:`environment`: Python, platform, installed and imported packages.
- :func:`hardware`: CPU, memory, GPUs, operating system.
- :func:`timed`: timings of each capture step for the commit record.

This package imports no tornado, jupyter_server or IPython, and never imports torch.
"""

from __future__ import annotations

from .data import DataHasher, FileRecord, hash_file
from .env import EnvironmentInfo, environment
from .hardware import HardwareInfo, hardware
from .sources import local_sources
from .timings import timed
from .variables import select_variables

__all__ = [
    "DataHasher",
    "EnvironmentInfo",
    "FileRecord",
    "HardwareInfo",
    "environment",
    "hardware",
    "hash_file",
    "local_sources",
    "select_variables",
    "timed",
]
