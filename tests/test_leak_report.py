"""LEAK004 (selection and report on one split) and what training is (an optimiser step, not any backward())."""
from pathlib import Path

from mllint.config import Config
from mllint.engine import run

LOOP = '''
import torch
from torch import nn


def evaluate(model, loader):
    right = total = 0
    with torch.no_grad():
        for x, y in loader:
            right += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return right / total


def train(model, train_loader, {params}):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    best = 0.0
    for epoch in range(10):
        for x, y in train_loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        acc = evaluate(model, {selecting})
        if acc > best:
            best = acc
            torch.save(model.state_dict(), "best.pt")
{after}
'''


def lint(tmp_path: Path, files: dict[str, str], codes=("LEAK004",)) -> list:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "README.md").write_text("project\n")
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    return run([str(tmp_path)], Config(), list(codes), [], jobs=1).findings


def loop(params="dev_loader", selecting="dev_loader", after='    print("best", best)'):
    return LOOP.format(params=params, selecting=selecting, after=after)


def test_message_names_the_split_the_selection_and_the_report(tmp_path):
    (finding,) = lint(tmp_path, {"train.py": loop()})
    assert finding.code == "LEAK004" and finding.loc.line == 25
    assert "`dev_loader`" in finding.message and "`acc > best`" in finding.message
    assert "line 28 reports the best value" in finding.message
    assert [r.loc.line for r in finding.related] == [28]


def test_any_split_name(tmp_path):
    for i, name in enumerate(("valid_data", "test_loader", "heldout_set")):
        assert [f.code for f in lint(tmp_path / str(i), {"train.py": loop(name, name)})] == ["LEAK004"]


def test_final_evaluation_on_another_split_silences(tmp_path):
    after = '    print("best", best)\n    print("test", evaluate(model, test_loader))'
    assert lint(tmp_path, {"train.py": loop("dev_loader, test_loader", "dev_loader", after)}) == []


def test_another_split_evaluated_after_the_selecting_function_returns(tmp_path):
    after = ('\n\ndef main(model, train_loader, dev_loader, test_loader):\n'
             '    train(model, train_loader, dev_loader)\n'
             '    print(evaluate(model, test_loader))\n')
    assert lint(tmp_path, {"train.py": loop(after='    print("best", best)' + after)}) == []


def test_best_kept_only_in_the_checkpoint_is_not_reported(tmp_path):
    assert lint(tmp_path, {"train.py": loop(after="    return model")}) == []


def test_oracle_report_is_not_the_result(tmp_path):
    assert lint(tmp_path, {"train.py": loop(after='    print("oracle upper bound", best)')}) == []


def test_best_training_loss_is_not_a_selection_on_evaluation_data(tmp_path):
    body = loop().replace("acc = evaluate(model, dev_loader)", "acc = evaluate(model, train_loader)")
    assert lint(tmp_path, {"train.py": body}) == []


ATTACK = '''
import torch
import torchvision
from torch import nn

test_loader = torch.utils.data.DataLoader(torchvision.datasets.MNIST("d", train=False), batch_size=64)
model = nn.Linear(784, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def fgsm(x, y, eps):
    x = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(x), y).backward()
    return x + eps * x.grad.sign()


def finetune(x, y):
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()


for x, y in test_loader:
    adv = fgsm(x, y, 0.1)
    {extra}
'''


def test_attack_gradients_are_not_training(tmp_path):
    assert lint(tmp_path, {"train.py": ATTACK.format(extra="pass")}, ("LEAK001",)) == []


def test_an_optimiser_step_on_test_data_is_training(tmp_path):
    (finding,) = lint(tmp_path, {"train.py": ATTACK.format(extra="finetune(x, y)")}, ("LEAK001",))
    assert finding.loc.line == 19


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_a_validation_name_on_test_data_is_called_misleading():
    findings = run([str(FIXTURES / "leak_pos_dynamic_dataset_misnamed")], Config(), ["LEAK002"], [], jobs=1).findings
    (finding,) = findings
    assert "getattr(datasets" in finding.message and "(train=False)" in finding.message
    assert finding.message.endswith("`val_loader` is named as validation data but is built from held-out data: "
                                    "the name misleads")
