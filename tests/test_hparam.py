"""HPARAM rules: messages, related locations, options, wrappers and the library-defaults table."""
import importlib
import inspect
import textwrap
from pathlib import Path

import pytest

from mllint.rules.hparam.apis import REQUIRED, TORCH_APIS, canonical
from mllint.config import Config, ConfigError, from_table, load_config
from mllint.engine import run


def lint(tmp_path: Path, files: dict[str, str], config: Config | None = None) -> list:
    (tmp_path / "README.md").write_text("project\n")
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip("\n"))
    result = run([str(tmp_path)], config or Config(), ["HPARAM"], [], jobs=1)
    return sorted(result.findings, key=lambda f: (f.loc.path, f.loc.line, f.loc.column))


def brief(findings) -> list[tuple[int, str, str]]:
    return [(f.loc.line, f.code, f.message) for f in findings]


def test_one_finding_per_statement_names_every_value(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        model = torch.nn.Linear(2, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.137, momentum=0.85, weight_decay=0)
        """})
    assert brief(findings) == [(4, "HPARAM001", "undocumented hyper-parameter literals: lr=0.137 (SGD learning rate), "
                                              "momentum=0.85 (SGD momentum)")]
    assert findings[0].loc.column == 46
    assert [(r.loc.line, r.loc.column, r.message) for r in findings[0].related] == [
        (4, 62, "momentum=0.85 sets the SGD momentum")]


def test_positional_arguments_and_import_aliases(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch.optim as o
        from torch.optim.lr_scheduler import StepLR as Decay

        opt = o.Adam(params, 3e-4, (0.9, 0.98))
        sched = Decay(opt, 30, 0.5)
        """})
    assert brief(findings) == [
        (4, "HPARAM001", "undocumented hyper-parameter literals: lr=3e-4 (Adam learning rate), betas=(0.9, 0.98) (Adam betas)"),
        (5, "HPARAM001", "undocumented hyper-parameter literals: step_size=30 (StepLR step size), gamma=0.5 (StepLR decay factor)"),
    ]


def test_spelling_alone_is_not_a_position(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        class SGD:
            def __init__(self, lr, momentum):
                self.lr = lr

        opt = SGD(lr=0.137, momentum=0.85)
        """})
    assert findings == []


def test_restating_comment_does_not_document_but_a_reason_does(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        torch.nn.utils.clip_grad_norm_(params, 5.0)  # clip gradients
        torch.nn.utils.clip_grad_norm_(params, 5.0)  # RNNs explode without it (Pascanu et al. 2013)
        # tuned on the validation split
        torch.nn.utils.clip_grad_value_(params, 0.3)
        """})
    assert brief(findings) == [(3, "HPARAM001", "undocumented hyper-parameter literal: max_norm=5.0 "
                                              "(clip_grad_norm_ maximum gradient norm)")]


def test_constant_reported_at_its_definition_and_documented_by_its_comment(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        LR = 0.137
        WD = 5e-4  # from the paper, Table 3
        opt = torch.optim.SGD(params, lr=LR, weight_decay=WD)
        opt2 = torch.optim.SGD(params, lr=LR)
        """})
    assert brief(findings) == [(3, "HPARAM001", "undocumented hyper-parameter literal: lr=LR (SGD learning rate; LR = 0.137)")]
    assert [r.loc.line for r in findings[0].related] == [5, 6]  # every use, once


def test_hparam_modules_declares_a_module_of_named_values(tmp_path):
    files = {"train.py": """
        import torch

        LR = 0.137
        opt = torch.optim.SGD(params, lr=LR)
        """}
    assert len(lint(tmp_path, files)) == 1
    (tmp_path / "mllint.toml").write_text('hparam-modules = ["train.py"]\n')
    assert lint(tmp_path, files, load_config(None, tmp_path)) == []


def test_hparam_modules_must_be_strings():
    assert from_table({"hparam-modules": ["conf/*.py"]}, "x").hparam_modules == ["conf/*.py"]
    with pytest.raises(ConfigError):
        from_table({"hparam-modules": "conf.py"}, "x")


def test_wrapper_across_modules_names_the_helper(tmp_path):
    findings = lint(tmp_path, {
        "train.py": """
            from utils import make_optimizer

            opt = make_optimizer(model, 0.05, momentum=0.9)
            opt2 = make_optimizer(model, 1e-3)
            """,
        "utils.py": """
            import torch


            def make_optimizer(model, lr, momentum=0.0):
                return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
            """,
    })
    assert brief(findings) == [(3, "HPARAM001", "undocumented hyper-parameter literals: lr=0.05 (SGD learning rate, via "
                                              "make_optimizer()), momentum=0.9 (SGD momentum, via make_optimizer())")]


def test_a_constant_passed_to_a_wrapper_is_named_with_its_value(tmp_path):
    findings = lint(tmp_path, {
        "train.py": """
            from utils import make_optimizer

            lr = 0.05
            for step in range(10):
                opt = make_optimizer(model, lr)
                opt.step()
            """,
        "utils.py": """
            import torch


            def make_optimizer(model, lr):
                return torch.optim.SGD(model.parameters(), lr=lr)
            """,
    })
    assert [f.message for f in findings if f.code == "HPARAM001"] == [
        "undocumented hyper-parameter literal: lr=lr (SGD learning rate, via make_optimizer(); lr = 0.05)"]


def test_override_of_an_option_points_at_the_option(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--learning_rate", type=float, default=0.1)
        args = parser.parse_args()
        if args.finetune:
            opt = torch.optim.SGD(params, lr=0.01)
        else:
            opt = torch.optim.SGD(params, lr=args.learning_rate)
        """})
    assert brief(findings) == [(8, "HPARAM002", "literal overrides an option: lr=0.01 (SGD learning rate) while option "
                                              "--learning_rate exists; the command line says one value, the run uses another")]
    assert [(r.loc.line, r.message) for r in findings[0].related] == [(5, "option --learning_rate is defined here")]


def test_option_of_another_concept_is_not_overridden(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--momentum", type=float, default=0.999, help="EMA of the pseudo-label distribution")
        args = parser.parse_args()
        q_hat = args.momentum * q_hat
        opt = torch.optim.SGD(params, lr=args.lr, momentum=0.85)
        """})
    assert [f.code for f in findings] == ["HPARAM001"]


def test_option_of_a_sibling_script_is_not_overridden(tmp_path):
    findings = lint(tmp_path, {
        "a.py": """
            import argparse
            import torch
            parser = argparse.ArgumentParser()
            parser.add_argument("--momentum", type=float, default=0.9)
            args = parser.parse_args()
            opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
            """,
        "b.py": """
            import torch
            opt = torch.optim.SGD(params, lr=args.lr, momentum=0.85)
            """,
        "c.py": """
            import torch
            from a import args
            opt = torch.optim.SGD(params, lr=args.lr, momentum=0.85)
            """,
    })
    assert [(f.loc.path.rsplit("/", 1)[-1], f.code) for f in findings] == [("b.py", "HPARAM001"), ("c.py", "HPARAM002")]


def test_loop_patterns(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        def train(opt, args, ce, aux_loss, kd_loss):
            lr = args.lr
            for epoch in range(args.epochs):
                if epoch in (137, 180):
                    lr *= 0.31
                loss = ce + 0.37 * aux_loss + 0.1 * kd_loss
                running_loss = 0.9 * running_loss + 0.1 * loss.item()
                opt.param_groups[0]["lr"] = lr
        """})
    assert brief(findings) == [
        (4, "HPARAM001", "undocumented hyper-parameter literal: epoch threshold (137, 180) "
                         "(epoch/step at which the learning rate changes)"),
        (5, "HPARAM001", "undocumented hyper-parameter literal: lr *= 0.31 (learning rate change)"),
        (6, "HPARAM001", "undocumented hyper-parameter literals: 0.37 * aux_loss (weight of `aux_loss` in the loss), "
                         "0.1 * kd_loss (weight of `kd_loss` in the loss)"),
    ]


def test_docstring_and_string_statement_document(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        def adjust(optimizer, epoch, args):
            \"\"\"Sets the learning rate to the initial LR decayed by 10 every 30 epochs\"\"\"
            lr = args.lr * (0.1 ** (epoch // 30))
            optimizer.param_groups[0]["lr"] = lr


        def other(optimizer, epoch, args):
            \"\"\"Train one epoch.\"\"\"
            lr = args.lr * (0.1 ** (epoch // 30))
            return lr
        """})
    assert brief(findings) == [(9, "HPARAM001", "undocumented hyper-parameter literals: lr: 0.1 (learning rate formula), "
                                              "lr: 30 (learning rate formula)")]


def test_tests_are_not_linted(tmp_path):
    assert lint(tmp_path, {"tests/test_opt.py": "import torch\nopt = torch.optim.SGD(p, lr=0.137)\n"}) == []


def test_canonical_names():
    assert canonical("torch.optim.sgd.SGD").short == "SGD"
    assert canonical("torch.optim.lr_scheduler.StepLR").short == "StepLR"
    assert canonical("torch.nn.modules.loss.CrossEntropyLoss").short == "CrossEntropyLoss"
    assert canonical("timm.utils.model_ema.ModelEmaV2").short == "ModelEmaV2"
    assert canonical("numpy.random.beta") is not None
    assert canonical("torch.SGD") is None and canonical("torch.nn.cross_entropy") is None
    assert canonical("numpy.beta") is None and canonical("mylib.SGD") is None and canonical(None) is None


def _torch_callable(qualified: str):
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_library_defaults_match_installed_torch():
    """The probe extra's check that the defaults table cannot drift from torch's signatures."""
    pytest.importorskip("torch")
    checked = 0
    for api in TORCH_APIS:
        target = _torch_callable(api.qualified)
        parameters = inspect.signature(target).parameters
        names = [n for n in parameters if n != "self"]
        for index, slot in enumerate(api.slots):
            assert slot.name in parameters, f"{api.qualified} has no parameter {slot.name}"
            if not slot.keyword_only:
                assert names[index] == slot.name, f"{api.qualified}: position {index} is {names[index]}, not {slot.name}"
            default = parameters[slot.name].default
            if slot.default is REQUIRED and slot.label:
                assert default is inspect.Parameter.empty, f"{api.qualified}.{slot.name} has a default {default!r}"
            elif slot.label:
                actual = tuple(default) if isinstance(default, (list, tuple)) else default
                assert actual == pytest.approx(slot.default) if not isinstance(actual, tuple) else actual == slot.default, \
                    f"{api.qualified}.{slot.name}: torch says {default!r}, the table {slot.default!r}"
                checked += 1
    assert checked > 60


def test_block_heading_documents_only_when_it_says_why(tmp_path):
    files = {"train.py": """
        import torch

        # Hyper-parameters
        hidden_size = 128
        num_epochs = 2
        learning_rate = 0.003

        opt = torch.optim.Adam(params, lr=learning_rate)
        """}
    findings = lint(tmp_path, files)  # the heading only names the block
    assert brief(findings) == [(6, "HPARAM001", "undocumented hyper-parameter literal: lr=learning_rate "
                                              "(Adam learning rate; learning_rate = 0.003)")]
    files["train.py"] = files["train.py"].replace("# Hyper-parameters", "# Hyper-parameters from the paper, Table 3")
    assert lint(tmp_path, files) == []


def test_option_help_explains_a_formula(tmp_path):
    findings = lint(tmp_path, {"main.py": """
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("--blr", type=float, help="absolute_lr = base_lr * total_batch_size / 256")
        args = parser.parse_args()
        args.lr = args.blr * args.batch_size / 256
        lr = args.blr * 0.37 * args.batch_size / 512
        train(args, lr)
        """})
    # the help states the /256 formula; 0.37 is a factor it does not state (512 is a reference batch, H5)
    assert brief(findings) == [(7, "HPARAM001", "undocumented hyper-parameter literal: lr: 0.37 (learning rate formula)")]


def test_loss_sum_inside_a_scale(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        def step(pos_loss, neg_loss, args):
            loss_g = (pos_loss + 0.5 * neg_loss) / 4 * args.trade_off
            loss_d = 0.5 * (pos_loss + neg_loss)
            loss = loss_g * 0.25
        """})
    assert brief(findings) == [(2, "HPARAM001", "undocumented hyper-parameter literal: 0.5 * neg_loss "
                                              "(weight of `neg_loss` in the loss)")]


def test_hand_written_ema(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch


        @torch.no_grad()
        def update(ema, model, step):
            for e, p in zip(ema.parameters(), model.parameters()):
                e.mul_(0.998).add_(p, alpha=1 - 0.998)
            for e, p in zip(ema.parameters(), model.parameters()):
                e.copy_(0.995 * e + (1 - 0.995) * p)
                e.data = 0.99 * e.data + (1.0 - 0.99) * p.data
            for k, v in model.state_dict().items():
                ema.state_dict()[k].lerp_(v, 1 - 0.9)


        def smooth(running, value):
            running = 0.9 * running + (1 - 0.9) * value
            return running


        def momentum_update(key_encoder, query_encoder, m=0.999):
            for pk, pq in zip(key_encoder.parameters(), query_encoder.parameters()):
                pk.data = pk.data * m + pq.data * (1.0 - m)


        def train(q, k):
            momentum_update(k, q, m=0.99)
        """})
    assert brief(findings) == [
        (7, "HPARAM001", "undocumented hyper-parameter literal: decay 0.998 (EMA decay of the weights)"),
        (9, "HPARAM001", "undocumented hyper-parameter literal: decay 0.995 (EMA decay of the weights)"),
        (10, "HPARAM001", "undocumented hyper-parameter literal: decay 0.99 (EMA decay of the weights)"),
        (12, "HPARAM001", "undocumented hyper-parameter literal: decay 0.9 (EMA decay of the weights)"),
        (26, "HPARAM001", "undocumented hyper-parameter literal: m=0.99 (EMA decay of the weights, via momentum_update())"),
    ]


def test_literal_factors_of_a_position(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        def build(params, args):
            a = torch.optim.SGD(params, lr=args.lr * 10)
            b = torch.optim.SGD(params, lr=args.lr * args.batch_size / 256)
            c = torch.optim.SGD(params, lr=args.lr * args.head_mult)
            return a, b, c
        """})
    assert [(f.loc.line, f.code) for f in findings] == [(4, "HPARAM001")]


def test_recipe_class_defaults_left_in_place(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        class LARS(torch.optim.Optimizer):
            def __init__(self, params, lr, weight_decay=0, momentum=0.9, eta=0.001):
                super().__init__(params, dict(lr=lr, momentum=momentum, eta=eta))

        class Unused(torch.optim.Optimizer):
            def __init__(self, params, lr, momentum=0.8):
                super().__init__(params, dict(lr=lr))

        def build(params, args):
            return LARS(params, lr=args.lr, eta=args.eta)
        """})
    assert brief(findings) == [(4, "HPARAM001", "undocumented hyper-parameter literal: momentum=0.9 "
                                              "(default of optimizer LARS, which 1 call leaves in place)")]


def test_main_demo_of_a_library_module_is_silent(tmp_path):
    files = {"scaler.py": """
        import torch

        class Scaler:
            pass

        if __name__ == "__main__":
            opt = torch.optim.SGD([], lr=1e-6)
            for _ in range(3):
                opt.step()
        """}
    assert lint(tmp_path, files) == []
    files["train.py"] = files.pop("scaler.py")  # a script's main block is its run
    assert len(lint(tmp_path, files)) == 1


def test_mean_of_n_losses_and_unused_objects_are_silent(tmp_path):
    findings = lint(tmp_path, {"train.py": """
        import torch

        def step(a, b, c, d, model):
            loss = 0.25 * a + 0.25 * b + 0.25 * c + 0.25 * d
            legacy = torch.optim.SGD(model.parameters(), lr=0.37)
            opt = torch.optim.SGD(model.parameters(), lr=0.37)
            opt.step()
            return loss
        """})
    assert [(f.loc.line, f.code) for f in findings] == [(6, "HPARAM001")]


def test_option_read_wholesale_or_by_a_sibling_is_not_idle(tmp_path):
    """An option read through `vars(args)` may be read anywhere: not idle; a sibling script's option (neither
    imported nor importing) is another program's: the literal is only undocumented."""
    files = {
        "train.py": """
            import argparse
            import torch
            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=0.1)
            args = parser.parse_args()
            config = vars(args)
            opt = torch.optim.SGD(params, lr=0.37)
            """,
        "other.py": """
            import torch
            opt = torch.optim.SGD(params, lr=0.21)
            """,
    }
    assert [(f.loc.path.rsplit("/", 1)[-1], f.code) for f in lint(tmp_path, files)] == [
        ("other.py", "HPARAM001"), ("train.py", "HPARAM001")]
    files["train.py"] = files["train.py"].replace("config = vars(args)", "config = args.epochs")
    assert [(f.loc.path.rsplit("/", 1)[-1], f.code) for f in lint(tmp_path, files)] == [
        ("other.py", "HPARAM001"), ("train.py", "HPARAM002")]


def test_options_namespace_sees_only_the_parsers_above(tmp_path):
    """A module that receives `args` sees the parsers of the folders above it; another program's parser (a
    sibling folder) is not its command line: its literal is only undocumented."""
    files = {
        "train/options.py": """
            import argparse
            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=0.1)
            args = parser.parse_args()
            """,
        "train/fit.py": """
            import torch
            def fit(args, model):
                return torch.optim.SGD(model.parameters(), lr=args.lr)
            """,
        "train/head.py": """
            import torch
            def head(args, model):
                return torch.optim.SGD(model.parameters(), lr=0.37, nesterov=args.nesterov)
            """,
        "tools/probe.py": """
            import torch
            def probe(args, model):
                return torch.optim.SGD(model.parameters(), lr=0.37, nesterov=args.nesterov)
            """,
    }
    assert [(f.loc.path.split("/")[-2], f.code) for f in lint(tmp_path, files)] == [
        ("tools", "HPARAM001"), ("train", "HPARAM002")]


def test_a_decay_step_on_the_option_is_undocumented_not_an_override(tmp_path):
    findings = lint(tmp_path, {
        "train.py": """
            import argparse
            import torch

            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=0.1)
            args = parser.parse_args()
            optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)


            def adjust_learning_rate(optimizer, epoch):
                lr = args.lr
                if epoch >= 100:
                    lr /= 10
                for group in optimizer.param_groups:
                    group["lr"] = lr


            for epoch in range(200):
                adjust_learning_rate(optimizer, epoch)
                optimizer.step()
            """,
    })
    # the epoch of the step (12) and its factor (13): undocumented, and neither says --lr is overridden
    assert [(f.code, f.loc.line) for f in findings if f.code.startswith("HPARAM")] == [("HPARAM001", 12), ("HPARAM001", 13)]


def test_a_factor_of_the_learning_rate_is_flagged_even_when_it_is_two(tmp_path):
    findings = lint(tmp_path, {
        "train.py": """
            import argparse
            import torch

            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=0.1)
            args = parser.parse_args()
            sparse = torch.optim.SGD(model.embedding.parameters(), lr=args.lr * 2)
            dense = torch.optim.SGD(model.body.parameters(), lr=args.lr * 10)
            for step in range(10):
                sparse.step()
                dense.step()
            """,
    })
    assert [(f.code, f.loc.line) for f in findings if f.code.startswith("HPARAM")] == [("HPARAM001", 7), ("HPARAM001", 8)]
