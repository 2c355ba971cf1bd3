"""A module's syntax tree and everything built on it are freed once its file is analysed: a worker analyses
hundreds of files, and a memo that outlives its module keeps every tree alive (timm's cold run peaked at 556 MB)."""
from __future__ import annotations

import gc
import weakref
from pathlib import Path

from mllint import context, engine
from mllint.config import Config

TRAIN = '''import torch
from torch.utils.data import DataLoader
import torchvision

torch.manual_seed(0)
test_set = torchvision.datasets.CIFAR10("data", train=False)
model = torch.nn.Linear(4, 2)
ema = torch.optim.swa_utils.AveragedModel(model)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for x, y in DataLoader(test_set, batch_size=4):
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
ema.eval()
with torch.no_grad():
    print(ema(torch.zeros(1, 4)))
'''


def test_no_module_context_outlives_the_analysis_of_its_file(tmp_path: Path, monkeypatch) -> None:
    made: list[weakref.ref] = []
    real_init = context.ModuleContext.__init__

    def recording(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(context.ModuleContext, "__init__", recording)
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "helpers.py").write_text("def evaluate(model, x):\n    model.eval()\n    return model(x)\n")
    result = engine.run([str(tmp_path)], Config(), ["ALL"], [], jobs=1, use_cache=False)
    assert result.findings  # every family ran on these modules
    gc.collect()
    assert made and [ref for ref in made if ref() is not None] == []
