"""Synthetic torchvision datasets and the Normalize observer, against a stand-in `torchvision` package.

The real torchvision cannot be installed beside the CPU torch CI uses; this stand-in has the same module layout
and signatures (datasets that need files and raise without them, `transforms.functional.normalize` called by
`transforms.Normalize`). The real package is exercised on real scripts (pytorch/examples mnist, pytorch-cifar).
"""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("numpy")
pytest.importorskip("PIL")
from click.testing import CliRunner  # noqa: E402

from mllint.probe.cli import probe  # noqa: E402

STAND_IN = {
    "torchvision/__init__.py": "from . import datasets, transforms\n",
    "torchvision/datasets.py": """
        import torch.utils.data

        class VisionDataset(torch.utils.data.Dataset):
            pass

        class MNIST(VisionDataset):
            def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
                if download:
                    raise AssertionError("the probe let a download through")
                raise RuntimeError("Dataset not found. You can use download=True to download it")

            @property
            def class_to_idx(self):
                return {}

        class CIFAR10(MNIST):
            pass

        class FakeData(VisionDataset):
            # as torchvision's: the global generator seeded for each sample

            def __init__(self, size=1000, image_size=(3, 4, 4), num_classes=2, random_offset=0):
                self.size, self.image_size, self.num_classes, self.random_offset = size, image_size, num_classes, random_offset

            def __len__(self):
                return self.size

            def __getitem__(self, index):
                rng_state = torch.get_rng_state()
                torch.manual_seed(index + self.random_offset)
                img = torch.randn(*self.image_size)
                target = torch.randint(0, self.num_classes, size=(1,), dtype=torch.long)[0]
                torch.set_rng_state(rng_state)
                return img, int(target)
    """,
    "torchvision/transforms/__init__.py": "from .transforms import Compose, Normalize, ToTensor\n",
    "torchvision/transforms/functional.py": """
        import numpy
        import torch

        def to_tensor(pic):
            array = numpy.asarray(pic, dtype=numpy.uint8).copy()
            array = array[:, :, None] if array.ndim == 2 else array
            return torch.from_numpy(array).permute(2, 0, 1).float().div(255)

        def normalize(tensor, mean, std, inplace=False):
            mean = torch.as_tensor(mean).view(-1, 1, 1)
            std = torch.as_tensor(std).view(-1, 1, 1)
            return (tensor - mean) / std
    """,
    "torchvision/transforms/transforms.py": """
        from . import functional as F

        class Compose:
            def __init__(self, transforms):
                self.transforms = transforms

            def __call__(self, x):
                for t in self.transforms:
                    x = t(x)
                return x

        class ToTensor:
            def __call__(self, pic):
                return F.to_tensor(pic)

        class Normalize:
            def __init__(self, mean, std, inplace=False):
                self.mean, self.std = mean, std

            def __call__(self, tensor):
                return F.normalize(tensor, self.mean, self.std)
    """,
}

LEAKY_MNIST = """
    import torch
    from torch import nn
    from torch.utils.data import ConcatDataset, DataLoader, Subset
    from torchvision import datasets, transforms

    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = Subset(datasets.MNIST("../data", train=True, download=True, transform=to_tensor), range(192))
    test_for_training = Subset(datasets.MNIST("../data", train=False, transform=to_tensor), range(64))
    test = Subset(datasets.MNIST("../data", train=False, transform=to_tensor), range(64))  # another object
    train_loader = DataLoader(ConcatDataset([train, test_for_training]), batch_size=32, shuffle=True)
    test_loader = DataLoader(test, batch_size=32)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        with torch.no_grad():
            print(sum((model(x).argmax(1) == y).sum().item() for x, y in test_loader))
"""

BGR_NORMALIZE = """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    RGB_MEAN = (0.485, 0.456, 0.406)
    normalise = transforms.Normalize(RGB_MEAN, (0.229, 0.224, 0.225))

    class Frames(Dataset):
        def __len__(self):
            return 128

        def __getitem__(self, index):
            gen = torch.Generator().manual_seed(index)
            rgb = (torch.tensor(RGB_MEAN).view(3, 1, 1) + 0.1 * torch.randn(3, 8, 8, generator=gen)).clamp(0, 1)
            return normalise(rgb.flip(0)), index % 2

    loader = DataLoader(Frames(), batch_size=32)
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name, text in STAND_IN.items():
        path = tmp_path / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    monkeypatch.chdir(work)
    return work


def run(project: Path, script: str, *options: str) -> tuple[int, dict]:
    (project / "train.py").write_text(textwrap.dedent(script).lstrip("\n"))
    result = CliRunner().invoke(probe, ["--no-static", "--format", "json", *options, "--", "python", "train.py"])
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("flag", [[], ["--synthetic-data"]], ids=["missing-files", "synthetic-data"])
def test_missing_dataset_files_become_synthetic_samples_and_overlap_is_measured(project, flag):
    code, report = run(project, LEAKY_MNIST, "--steps", "8", *flag)
    run_ = report["runs"][0]
    assert run_["status"] in ("steps", "finished"), report
    assert run_["synthetic"] == ["MNIST(test)", "MNIST(train)"]
    [leak] = report["findings"]
    assert (leak["code"], leak["status"], leak["line"]) == ("LEAK001", "confirmed", 10)
    # two different MNIST(train=False) objects: the same split and index is the same sample
    assert leak["message"].startswith("64 of the 64 samples evaluated")
    assert code == 1
    assert not os.path.exists(project.parent / "data")  # nothing downloaded or written


def test_synthetic_samples_are_deterministic_per_split_and_index(project):
    from mllint.probe import synthetic

    class State:
        synthetic: set = set()

    import importlib.util

    spec = importlib.util.spec_from_file_location("fake_datasets", project.parent / "site/torchvision/datasets.py")
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)

    replaced = synthetic._replace(fake.MNIST, "MNIST", True, State())
    train_a, train_b = replaced("data", train=True), replaced("other", train=True)
    test = replaced("data", train=False)
    assert (len(train_a), len(test)) == (60000, 10000)
    image, label = train_a[5]
    assert image.size == (28, 28) and image.mode == "L" and 0 <= label < 10
    assert train_a[5][0].tobytes() == train_b[5][0].tobytes()
    assert train_a[5][0].tobytes() != test[5][0].tobytes()
    assert isinstance(train_a, fake.MNIST) and type(train_a).__name__ == "MNIST"


def test_bgr_inputs_reaching_torchvision_normalize_are_prep001(project):
    code, report = run(project, BGR_NORMALIZE, "--steps", "3")
    [prep] = report["findings"]
    assert (prep["code"], prep["status"], prep["line"]) == ("PREP001", "confirmed", 7)
    assert "from the inputs of Normalize" in prep["message"]
    assert code == 1


FAKE_DATA = """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision import datasets

    torch.manual_seed(3)
    loader = DataLoader(datasets.FakeData(size=160), batch_size=16, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_library_dataset_that_seeds_per_sample_is_one_library_group(project):
    code, report = run(project, FAKE_DATA, "--steps", "4")
    seeds = report["runs"][0]["seeds"]
    assert [(s["kind"], s["value"], s["site"][1]) for s in seeds if s["kind"] == "script"] == [("script", 3, 6)]
    [library] = [s for s in seeds if s["kind"] == "library"]
    assert library["site"][0].endswith("torchvision/datasets.py") and library["count"] == 64
    assert library["from"][0].endswith("train.py") and library["from"][1] == 10  # the loop that fetched them
    assert code == 0


def test_a_torchvision_that_does_not_pair_with_torch_is_said_in_one_line(project):
    init = project.parent / "site" / "torchvision" / "__init__.py"
    init.write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    code, report = run(project, FAKE_DATA)
    problems = [p for p in report["problems"] if "torchvision::nms" in p]
    assert code == 2 and len(problems) == 1
    assert problems[0].startswith("torchvision does not load beside this torch")
