"""Models that live on a CUDA device: commit, status and restore (run only with CUDA).

The same paths run on CPU through the stand-in (``torch_format.HOST_DEVICES = ()``) in
tests/store/test_part_ids.py and tests/serializers/test_torch.py; here they run on the
real device, with its pinned staging buffers, streams and allocator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook
from torch import nn

import mlvc_server as mlvc
from mlvc_server.serializers import torch_format
from mlvc_server.store import Store, find_root
from mlvc_server.store import payloads as ps

#: ``MLVC_GPU_TESTS_ON_CPU=1`` runs this file on CPU tensors sent down the device path
#: (the stand-in), to debug it without a GPU; it proves nothing about CUDA itself.
STANDIN = os.environ.get("MLVC_GPU_TESTS_ON_CPU") == "1"
DEVICE = "cpu" if STANDIN else "cuda"
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not (STANDIN or torch.cuda.is_available()), reason="needs a CUDA device"),
]
NB = "train.ipynb"


@pytest.fixture(autouse=True)
def _standin(monkeypatch: pytest.MonkeyPatch) -> None:
    if STANDIN:
        monkeypatch.setattr(torch_format, "HOST_DEVICES", ())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    nbformat.write(new_notebook(cells=[new_code_cell("model = make()")]), tmp_path / NB)
    return tmp_path


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes of every device tensor copied to the host (one entry per tensor)."""
    seen: list[int] = []
    real = torch_format._materialize

    def counting(t: torch.Tensor, slice_bytes: int | None = None) -> Iterator[memoryview]:
        seen.append(t.numel() * t.element_size())
        yield from real(t, slice_bytes)

    monkeypatch.setattr(torch_format, "_materialize", counting)
    return seen


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)


class TinyLM(nn.Module):
    def __init__(self, vocab: int = 4096, d: int = 256, layers: int = 4) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(layers))
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.embed.weight


def ptrs(obj: Any) -> dict[str, int]:
    named = obj.state_dict(keep_vars=True) if isinstance(obj, nn.Module) else obj
    return {k: v.data_ptr() for k, v in named.items()}


def snapshot(obj: Any) -> dict[str, torch.Tensor]:
    named = obj.state_dict() if isinstance(obj, nn.Module) else obj
    return {k: v.detach().cpu().clone() for k, v in named.items()}


def restore_in_place(cid: str, name: str, target: Any) -> torch_format.InPlaceLoad:
    store = Store(find_root("."))
    reader = ps.open_variable(store, cid, name)
    return torch_format.load_into(target, reader.manifest["meta"], reader)


def model_and_optimizer() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = TinyLM().to(DEVICE)
    return model, torch.optim.SGD(model.blocks[1].parameters(), lr=0.1)


def train_step(model: nn.Module, opt: torch.optim.Optimizer) -> None:
    x = model.embed.weight[:8].detach()
    block = model.blocks[1]
    loss = block.down(torch.relu(block.up(block.norm(x)))).square().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


@pytest.mark.usefixtures("project")
def test_state_dict_commit_status_restore(copies: list[int]) -> None:
    sd = {f"layer{i}.weight": torch.randn(256, 1024, device=DEVICE) for i in range(6)}
    sd["step"] = torch.tensor(3, device=DEVICE)
    before = ptrs(sd)
    c1 = mlvc.commit("one", variables={"sd": sd}, notebook=NB)
    assert len(copies) == len(sd) and ptrs(sd) == before
    st = mlvc.status(notebook=NB, variables={"sd": sd})
    assert st["variables"] == {"sd": "unchanged"}
    first = snapshot(sd)
    copies.clear()
    sd["layer2.weight"].mul_(2)
    assert mlvc.status(notebook=NB, variables={"sd": sd})["variables"] == {"sd": "changed"}
    c2 = mlvc.commit("two", variables={"sd": sd}, notebook=NB)
    assert copies.count(256 * 1024 * 4) == 2  # status then commit, the changed tensor only
    assert len(copies) == 2
    loaded = mlvc.load(c1, "sd")
    assert all(loaded[k].device.type == "cpu" and torch.equal(loaded[k], first[k]) for k in sd)
    assert torch.equal(mlvc.load(c2, "sd")["layer2.weight"], first["layer2.weight"] * 2)
    stats = restore_in_place(c1, "sd", sd)
    assert ptrs(sd) == before and all(v.device.type == DEVICE for v in sd.values())
    assert all(torch.equal(sd[k].cpu(), first[k]) for k in sd)
    assert stats.copied == 1 and stats.skipped == len(sd) - 1


@pytest.mark.usefixtures("project")
def test_module_after_optimizer_steps(copies: list[int]) -> None:
    model, opt = model_and_optimizer()
    before = ptrs(model)
    c1 = mlvc.commit("init", variables={"model": model}, notebook=NB)
    first = snapshot(model)
    assert mlvc.status(notebook=NB, variables={"model": model})["variables"] == {
        "model": "unchanged"
    }
    train_step(model, opt)
    copies.clear()
    mlvc.commit("step", variables={"model": model}, notebook=NB)
    changed = {k for k, v in snapshot(model).items() if not torch.equal(v, first[k])}
    assert changed and all(k.startswith("blocks.1.") for k in changed)
    assert len(copies) == len(changed)
    assert ptrs(model) == before
    assert mlvc.status(notebook=NB, variables={"model": model})["variables"] == {
        "model": "unchanged"
    }
    rebuilt = mlvc.load(c1, "model", trust=True)
    assert all(torch.equal(rebuilt.state_dict()[k], first[k]) for k in first)
    assert rebuilt.head.weight is rebuilt.embed.weight
    stats = restore_in_place(c1, "model", model)
    assert ptrs(model) == before and model.head.weight is model.embed.weight
    assert all(torch.equal(v.cpu(), first[k]) for k, v in model.state_dict().items())
    assert stats.copied == len(changed)


@pytest.mark.usefixtures("project")
@pytest.mark.skipif(STANDIN, reason="measures CUDA memory")
def test_restore_makes_no_device_copy_of_the_model() -> None:
    mib = 1 << 20
    sd = {f"w{i}": torch.randn(64 * mib // 4, device=DEVICE) for i in range(8)}  # 512 MiB
    c1 = mlvc.commit("one", variables={"sd": sd}, notebook=NB)
    first = {k: v.sum().item() for k, v in sd.items()}
    for v in sd.values():
        v.zero_()
    before = ptrs(sd)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    stats = restore_in_place(c1, "sd", sd)
    peak = torch.cuda.max_memory_allocated() - base
    assert ptrs(sd) == before and stats.copied == len(sd)
    assert {k: v.sum().item() for k, v in sd.items()} == first
    assert peak < 192 * mib  # the fingerprint's bounded scratch, not a 512 MiB copy


@pytest.mark.usefixtures("project")
def test_status_of_unchanged_model_copies_nothing(copies: list[int]) -> None:
    model, _ = model_and_optimizer()
    mlvc.commit("init", variables={"model": model, "sd": model.state_dict()}, notebook=NB)
    copies.clear()
    st = mlvc.status(notebook=NB, variables={"model": model, "sd": model.state_dict()})
    assert st["variables"] == {"model": "unchanged", "sd": "unchanged"}
    assert copies == []
