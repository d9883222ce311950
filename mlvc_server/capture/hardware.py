"""Describe the machine a run used: CPU, memory, GPUs, operating system, host name.

Hardware does not change while a process runs, so it is probed once per process and
cached (a repeat call copies a small dict). GPUs come from ``nvidia-smi`` when it is
installed (run once, with a short timeout), otherwise from PyTorch, but only when the
user's code has already imported ``torch`` and initialized CUDA: this module never
imports torch and never initializes CUDA itself (doing so in a user's kernel costs
seconds and GPU memory, and breaks fork-based data loaders).
"""

from __future__ import annotations

import copy
import csv
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
from typing import Any, Final, TypedDict

__all__ = ["CpuInfo", "GpuInfo", "HardwareInfo", "MemoryInfo", "OsInfo", "hardware"]

#: Seconds ``nvidia-smi`` (or ``sysctl`` on macOS) may take before it is given up on.
PROBE_TIMEOUT_S: Final = 3.0


class CpuInfo(TypedDict):
    """The processor: ``model`` name, ``physical_cores`` (None if unknown),
    ``logical_cores`` and ``arch`` (e.g. ``"x86_64"``)."""

    model: str
    physical_cores: int | None
    logical_cores: int
    arch: str


class MemoryInfo(TypedDict):
    """Main memory: ``total_bytes``."""

    total_bytes: int


class GpuInfo(TypedDict):
    """One GPU: ``index``, ``name``, ``memory_bytes`` and ``driver`` (None if unknown)."""

    index: int
    name: str
    memory_bytes: int | None
    driver: str | None


class OsInfo(TypedDict):
    """The operating system: ``system``, ``release`` and ``distro`` (a pretty name)."""

    system: str
    release: str
    distro: str


class HardwareInfo(TypedDict):
    """The machine a run used; see the module docstring for where each part comes from."""

    cpu: CpuInfo
    memory: MemoryInfo
    gpus: list[GpuInfo]
    os: OsInfo
    hostname: str


_lock = threading.Lock()
_cached: HardwareInfo | None = None
#: Whether nvidia-smi answered; when it did not, torch is asked again on later calls.
_gpus_final = False


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _run(args: list[str]) -> str | None:
    """Run a probe command; its stdout, or None when missing, failing or too slow."""
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _cpuinfo_fields(text: str) -> list[dict[str, str]]:
    """/proc/cpuinfo as one dict per processor block."""
    blocks: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        key, sep, value = line.partition(":")
        if sep:
            blocks[-1][key.strip()] = value.strip()
    return [b for b in blocks if b]


def _cpu() -> CpuInfo:
    arch = platform.machine()
    blocks = _cpuinfo_fields(_read("/proc/cpuinfo"))
    model = ""
    for block in blocks:
        for key in ("model name", "Model", "Hardware", "cpu model", "Processor"):
            if block.get(key):
                model = block[key]
                break
        if model:
            break
    if not model and sys.platform == "darwin":
        model = (_run(["sysctl", "-n", "machdep.cpu.brand_string"]) or "").strip()
    model = model or platform.processor() or arch

    physical: int | None = None
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:
        physical = None
    if physical is None:
        cores = {(b.get("physical id"), b["core id"]) for b in blocks if "core id" in b}
        physical = len(cores) or None
    return {
        "model": model,
        "physical_cores": physical,
        "logical_cores": os.cpu_count() or 1,
        "arch": arch,
    }


def _memory_total() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        pass
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1]) * 1024
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def _parse_nvidia_smi(text: str) -> list[GpuInfo]:
    """Rows of ``index, name, memory.total (MiB), driver_version`` as :class:`GpuInfo`."""
    gpus: list[GpuInfo] = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) < 4 or not row[0].strip().isdigit():
            continue
        memory = row[2].strip()
        gpus.append(
            {
                "index": int(row[0]),
                "name": row[1].strip(),
                "memory_bytes": int(float(memory) * 1024 * 1024) if _is_number(memory) else None,
                "driver": row[3].strip() or None,
            }
        )
    return sorted(gpus, key=lambda g: g["index"])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _nvidia_smi_gpus() -> list[GpuInfo] | None:
    out = _run(
        [
            "nvidia-smi",
            "--query-gpu=index,name,memory.total,driver_version",
            "--format=csv,noheader,nounits",
        ]
    )
    return None if out is None else _parse_nvidia_smi(out)


def _torch_gpus() -> list[GpuInfo]:
    """GPUs from an already imported torch whose CUDA is already initialized."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return []
    try:
        cuda = torch.cuda
        if not cuda.is_initialized():
            return []
        gpus: list[GpuInfo] = []
        for index in range(cuda.device_count()):
            props = cuda.get_device_properties(index)
            gpus.append(
                {
                    "index": index,
                    "name": str(props.name),
                    "memory_bytes": int(props.total_memory),
                    "driver": None,
                }
            )
        return gpus
    except Exception:
        return []


def _os() -> OsInfo:
    system = platform.system()
    distro = ""
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
            distro = release.get("PRETTY_NAME") or release.get("NAME", "")
        except OSError:
            distro = ""
    elif system == "Darwin":
        version = platform.mac_ver()[0]
        distro = f"macOS {version}" if version else "macOS"
    elif system == "Windows":
        distro = f"Windows {platform.release()} ({platform.version()})"
    return {"system": system, "release": platform.release(), "distro": distro}


def _probe() -> tuple[HardwareInfo, bool]:
    smi = _nvidia_smi_gpus()
    gpus = smi if smi is not None else _torch_gpus()
    info: HardwareInfo = {
        "cpu": _cpu(),
        "memory": {"total_bytes": _memory_total()},
        "gpus": gpus,
        "os": _os(),
        "hostname": socket.gethostname(),
    }
    return info, smi is not None or bool(gpus)


def hardware() -> HardwareInfo:
    """Describe this machine.

    Probed on the first call and cached for the process. When ``nvidia-smi`` is not
    available and no GPU was found, later calls ask torch again (cheaply) in case the
    user's code has imported torch and initialized CUDA since.

    Returns:
        A fresh :class:`HardwareInfo` (the caller may modify it); GPUs sorted by index.
    """
    global _cached, _gpus_final
    with _lock:
        if _cached is None:
            _cached, _gpus_final = _probe()
        elif not _gpus_final and "torch" in sys.modules:
            gpus = _torch_gpus()
            if gpus:
                _cached["gpus"] = gpus
                _gpus_final = True
        return copy.deepcopy(_cached)
