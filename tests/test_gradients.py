"""core/gradients.py: whose gradients a function follows, the one reading SEED and LEAK share."""
import textwrap

import libcst as cst
import pytest

from mllint.core.gradients import follows_input_gradients, optimised_names


def _function(code: str) -> cst.FunctionDef:
    return cst.parse_module(textwrap.dedent(code)).body[0]


INPUT = {
    "pgd": """
        def pgd(model, x, y, eps):
            delta = torch.zeros_like(x, requires_grad=True)
            for _ in range(10):
                loss = F.cross_entropy(model(x + delta), y)
                loss.backward()
                delta.data = (delta + eps * delta.grad.sign()).clamp(-eps, eps)
                delta.grad.zero_()
            return delta
    """,
    "saliency": """
        def saliency(model, images, labels):
            images.requires_grad_()
            model(images).gather(1, labels[:, None]).sum().backward()
            return images.grad.abs().amax(1)
    """,
    "cw": """
        def cw(model, x, y):
            w = x.clone().detach().requires_grad_()
            opt = torch.optim.Adam([w], lr=0.01)
            for _ in range(100):
                loss = margin(model(torch.tanh(w)), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            return torch.tanh(w)
    """,
    "sign by hand": """
        def fgsm(model, x, y):
            x = Variable(x.data, requires_grad=True)
            criterion(model(x), y).backward()
            return x + 0.1 * ((x.grad > 0).float() * 2 - 1)
    """,
}

TRAINING = {
    "optimiser step": """
        def train(model, loader, optimizer):
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
    """,
    "indexed optimiser": """
        def train(model, x, y, optimizers):
            criterion(model(x), y).backward()
            optimizers[0].step()
            print(x.grad)
    """,
    "update by hand": """
        def sgd(model, x, y, lr):
            criterion(model(x), y).backward()
            for p in model.parameters():
                p.data -= lr * p.grad
    """,
    "no gradient read": """
        def penalty(model, x):
            loss = model(x).pow(2).mean()
            loss.backward()
            scheduler.step()
    """,
}


@pytest.mark.parametrize("name", INPUT)
def test_input_gradients(name):
    assert follows_input_gradients(_function(INPUT[name]))


@pytest.mark.parametrize("name", TRAINING)
def test_training_follows_weights(name):
    assert not follows_input_gradients(_function(TRAINING[name]))


def test_optimised_names_are_tensor_lists_only():
    assert optimised_names(_function(INPUT["cw"])) == ("w",)
    assert optimised_names(_function("""
        def fit(model, w, b):
            a = torch.optim.SGD(model.parameters(), lr=0.1)
            c = optim.LBFGS((w, b))
    """)) == ("w", "b")
