"""A torch model trained in a real kernel: restore gives back the exact earlier weights,
and a pickled payload that another user wrote needs ``--trust``."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("torch")

SETUP = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
X = torch.randn(64, 4)
y = X.sum(dim=1, keepdim=True)

def train(steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return float(loss)
"""

SAME_AS_EARLY = "all(torch.equal(model.state_dict()[k], early[k]) for k in early)"


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Any:
    k = kernel_factory()
    k.run("%load_ext mlvc_server")
    k.run(SETUP)
    return k


def test_restore_gives_the_exact_earlier_weights(k: Any) -> None:
    k.run("loss = train(5)")
    k.run("%mlvc commit -m 'five steps' --metric loss={loss}")
    # kept outside the kernel's variables: the earlier weights, to compare with
    k.run("_early = {n: t.clone() for n, t in model.state_dict().items()}")
    k.run("loss = train(20)")
    k.run("%mlvc commit -m 'twenty more' --metric loss={loss}")
    assert k.value(SAME_AS_EARLY.replace("early", "_early")) is False

    out = k.run("%mlvc restore HEAD~1 model")
    assert "Restored model from" in out.stdout
    assert k.value(SAME_AS_EARLY.replace("early", "_early")) is True
    # the restored model is a working module
    assert k.value("float(((model(X) - y) ** 2).mean()) > 0")


def test_another_users_pickle_needs_trust(k: Any) -> None:
    k.run("class Box:\n    def __init__(self, v): self.v = v\nbox = Box(3)")
    k.run("%mlvc commit -m 'a pickled box' --vars box")
    # Now the commit is read by another user: a different signing key.
    k.run("import os; os.environ['MLVC_CONFIG_DIR'] += '-other'; box = None")
    out = k.run("%mlvc restore HEAD box")
    assert "not restored box" in out.stderr and "--trust" in out.stderr
    assert k.value("box is None")
    out = k.run("%mlvc restore HEAD box --trust")
    assert "Restored box" in out.stdout
    assert k.value("box.v") == 3
