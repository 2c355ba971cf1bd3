"""EVAL details the fixture files do not show: messages, hints, related locations (the EMA construction,
the calls it passed through, the flip, the models iterated over), switches and their reasons, and
look-alikes that must stay silent."""
import textwrap
from pathlib import Path

from mllint.config import Config
from mllint.engine import run
from mllint.rules.eval import AveragedWeightsEvaluated

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def lint(tmp_path: Path, files: dict[str, str], select=("EVAL",)) -> list:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "README.md").write_text("project\n")
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip("\n"))
    return run([str(tmp_path)], Config(), list(select), [], jobs=1).findings


def lint_fixture(name: str, select=("EVAL",)) -> list:
    return run([str(FIXTURES / name)], Config(), list(select), [], jobs=1).findings


def related(finding) -> list[tuple[str, int, str]]:
    return [(Path(r.loc.path).name, r.loc.line, r.message) for r in finding.related]


def test_ema_followed_by_keyword_into_another_module_names_the_construction_and_the_call():
    (finding,) = lint_fixture("eval_pos_yolo_cross_module")
    assert finding.code == "EVAL001" and Path(finding.loc.path).name == "val.py" and finding.loc.line == 9
    assert finding.message == ("averaged weights are evaluated: `model` evaluated in `run()` is the averaged model "
                               "`ModelEMA(...)`")
    assert related(finding) == [("train.py", 9, "averaged weights built here: `ModelEMA(...)`"),
                                ("train.py", 19, "passed to run() as `model`")]
    assert finding.hint == AveragedWeightsEvaluated.hint and "both numbers" in finding.hint


def test_a_switch_that_cannot_be_turned_off_is_named_in_the_message():
    (finding,) = lint_fixture("eval_pos_fixmatch_dead_switch")
    assert "`--use-ema` is `store_true` with `default=True`: it cannot be turned off" in finding.message
    assert [m for _, _, m in related(finding)] == [
        "averaged weights built here: `ModelEMA(...)`", "passed to train() as `ema_model`",
        "passed to test() as `model`"]
    (hasattr_finding,) = lint_fixture("eval_pos_hasattr_always")
    assert "`hasattr(self, 'model_ema')` is always true" in hasattr_finding.message


def test_the_same_option_off_by_default_is_a_working_switch(tmp_path):
    body = (FIXTURES / "eval_pos_fixmatch_dead_switch" / "train.py").read_text()
    fixed = body.replace("action='store_true', default=True", "action='store_true'")
    assert fixed != body
    ema = (FIXTURES / "eval_pos_fixmatch_dead_switch" / "models" / "ema.py").read_text()
    assert lint(tmp_path, {"train.py": fixed, "models/ema.py": ema}) == []


def test_hand_written_averager_is_recognised_by_its_update_and_torch_ema_by_its_scope():
    (finding,) = lint_fixture("eval_pos_handwritten_ema")
    assert "`shadow` of the averaging class `WeightAverager`" in finding.message
    (scope,) = lint_fixture("eval_pos_torch_ema_scope")
    assert "`evaluate()` runs with the averaged weights that `ema.average_parameters()` swaps in" in scope.message
    assert related(scope) == [("main.py", 26, "averaged weights swapped in here")]


def test_raw_and_averaged_results_side_by_side_are_not_flagged_but_far_apart_they_are(tmp_path):
    assert lint_fixture("eval_neg_both_numbers") == []
    body = (FIXTURES / "eval_neg_both_numbers" / "train.py").read_text()
    # the raw model evaluated only once, long after, on a checkpoint: not beside the EMA result
    far = body.replace("        raw = validate(model, val_loader)\n", "").replace(
        'print(f"top1 {raw:.2f} | top1 (EMA) {averaged:.2f}")', 'print(averaged)')
    assert far != body
    findings = lint(tmp_path, {"train.py": far})
    assert [f.code for f in findings] == ["EVAL001"]


def test_tta_message_and_the_flip_as_related_location():
    (finding,) = lint_fixture("eval_pos_flip_tta")
    assert finding.code == "EVAL003"
    assert finding.message == ("test-time augmentation at evaluation: `model` outputs combined over flipped or "
                               "rotated inputs in `evaluate()`")
    assert related(finding) == [("evaluate.py", 9, "a flip of the input")]
    (helper,) = lint_fixture("eval_pos_helper_default_flip")
    assert "(the helper default `flip=True` is never overridden by a caller, so it is no switch)" in helper.message


def test_a_caller_passing_flip_false_makes_the_helper_default_a_switch(tmp_path):
    metrics = (FIXTURES / "eval_pos_helper_default_flip" / "metrics.py").read_text()
    main = (FIXTURES / "eval_pos_helper_default_flip" / "main.py").read_text()
    passing = metrics.replace("predict(model, images)", "predict(model, images, flip=False)")
    assert passing != metrics
    assert lint(tmp_path, {"metrics.py": passing, "main.py": main}) == []


def test_ensemble_names_the_models_iterated_over():
    (finding,) = lint_fixture("eval_pos_checkpoint_ensemble")
    assert finding.code == "EVAL002"
    assert finding.message == "an ensemble at evaluation: outputs of several models (`models`) combined in `test()`"
    assert related(finding) == [("ensemble_eval.py", 16, "the models iterated over")]


def test_training_mode_and_gradients_messages():
    (mode,) = lint_fixture("eval_pos_no_eval_mode")
    assert mode.code == "EVAL004" and mode.severity.name == "WARNING"
    assert "`validate()` evaluates `model` without `.eval()`" in mode.message
    assert related(mode) == [("train.py", 20, "the model is run here")]
    grads = lint_fixture("eval_pos_grad_tracked")
    assert [f.code for f in grads] == ["EVAL005", "EVAL005"]
    assert all(f.severity.name == "INFO" for f in grads)
    assert "volatile=True" in grads[1].message and related(grads[1]) == [("scoring.py", 17, "volatile=True here")]


def test_models_in_module_smoke_tests_and_model_methods_are_not_evaluation(tmp_path):
    findings = lint(tmp_path, {
        "models/resnet.py": """
            import torch
            import torch.nn as nn

            class ResNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

                def forward(self, x):
                    return self.backbone(x)

                def inference(self, images):
                    return [self.backbone(im) for im in images]

            def test():
                net = ResNet()
                y = net(torch.randn(2, 3, 32, 32))
                print(y.size())
        """,
        "main.py": """
            import torch
            import torch.nn.functional as F
            from models.resnet import ResNet

            def test(net, loader):
                net.eval()
                correct = 0
                with torch.no_grad():
                    for x, y in loader:
                        correct += (net(x).argmax(1) == y).sum().item()
                return correct

            def main(loader, test_loader):
                net = ResNet()
                opt = torch.optim.SGD(net.parameters(), lr=0.1)
                for x, y in loader:
                    net.train()
                    loss = F.cross_entropy(net(x), y)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                print(test(net, test_loader))
                print(net.inference([x]))
        """,
    })
    assert findings == []


def test_functions_named_like_models_are_not_models(tmp_path):
    findings = lint(tmp_path, {"validate.py": """
        from timm.models import list_models, create_model

        def validate(args):
            results = []
            for name in list_models(args.pattern):
                model = create_model(name)
                results.append(name)
            return results

        def main(args):
            print(validate(args))
    """})
    assert findings == []


def test_a_constant_if_true_is_no_switch(tmp_path):
    body = (FIXTURES / "eval_neg_tta_option" / "test.py").read_text()
    constant = body.replace("if args.tta:", "if True:")
    assert constant != body
    (finding,) = lint(tmp_path, {"test.py": constant})
    assert finding.code == "EVAL003"
    assert "(a constant `if True` is always on, so it is no switch)" in finding.message


def test_yolo_style_augmented_forward_behind_a_parameter_that_defaults_off_is_silent(tmp_path):
    model = """
        import torch
        import torch.nn as nn

        class Model(nn.Module):
            def forward(self, x, augment=False):
                if augment:
                    return self._forward_augment(x)
                return self._forward_once(x)

            def _forward_augment(self, x):
                y = []
                for s, f in zip((1, 0.83, 0.67), (None, 3, None)):
                    xi = scale_img(x.flip(f) if f else x, s)
                    y.append(self._forward_once(xi))
                return torch.cat(y, 1)

            def _forward_once(self, x):
                return x
    """
    assert lint(tmp_path / "off", {"yolo.py": model}) == []
    (finding,) = lint(tmp_path / "on", {"yolo.py": model.replace("augment=False", "augment=True")})
    assert finding.code == "EVAL003" and "`augment=True` is never overridden" in finding.message
    assert related(finding)[0][2] == "a flip of the input"


def test_unit_tests_outside_tests_folders_are_not_evaluation(tmp_path):
    findings = lint(tmp_path, {"problem_unittests.py": """
        import torch
        import torch.nn as nn
        from unittest.mock import MagicMock

        def test_rnn(RNN):
            rnn = RNN(20, 10)
            rnn.train()
            output = rnn(torch.rand(4, 20))
            loss = output.sum()
            assert output.shape == (4, 10)

        def check_all(RNN):
            test_rnn(RNN)
            net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    """})
    assert findings == []


def test_helper_method_forward_is_judged_in_the_evaluating_function():
    (found,) = lint_fixture("eval_pos_helper_method_forward")
    assert found.code == "EVAL005" and found.loc.line == 12
    assert "`vali()` evaluates `self.model` in `_process_one_batch()`" in found.message
    assert related(found) == [("exp.py", 16, "the model is run here")]
    assert lint_fixture("eval_neg_helper_method_no_grad") == []


def test_attack_that_restores_train_mode_before_the_evaluation_forward():
    (found,) = lint_fixture("eval_pos_attack_restores_train")
    assert found.code == "EVAL004" and found.loc.line == 34
    assert found.message.startswith("`attack_pgd()`, called in `evaluate_pgd()` after `.eval()`, ends with `.train()`")
    assert lint_fixture("eval_neg_attack_then_eval") == []


def test_metric_on_averaged_checkpoint_weights_only():
    (found,) = lint_fixture("eval_pos_fid_on_ema_checkpoint")
    assert found.code == "EVAL001" and found.loc.line == 31
    assert related(found) == [("fid.py", 28, "averaged weights loaded here")]
    assert lint_fixture("eval_neg_ema_samples_only") == []


def test_switch_origins_in_core():
    """Where a switch's value comes from is origins.py's answer (issue 20: EVAL's own switch reader is gone)."""
    import libcst as cst

    from mllint.core.names import NameTable
    from mllint.core.origins import attributes_always_set, constant_test, option_always_on, switch_options

    module = cst.parse_module(textwrap.dedent("""
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--no-tta", dest="tta", action="store_false")
        p.add_argument("--tta", action="store_true", default=True)
        p.add_argument("--ema", action="store_true", default=True)
        p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True)

        class Runner:
            def __init__(self, use_ema):
                self.model_ema = None
                if use_ema:
                    self.swa = 1
    """))
    options = switch_options(module, NameTable(module, "m.py"))
    assert options["tta"].action == "store_false"  # `--no-tta` wins: the switch can be turned off
    assert option_always_on(options["ema"]) and not option_always_on(options["tta"])
    assert options["flip"].action == "BooleanOptionalAction" and not option_always_on(options["flip"])
    cls = next(n for n in module.body if isinstance(n, cst.ClassDef))
    assert attributes_always_set(cls) == {"model_ema"}
    assert constant_test(cst.parse_expression("True")) and not constant_test(cst.parse_expression("args.tta"))


def test_built_by_follows_bindings_and_value_keeping_methods():
    import libcst as cst

    from mllint.core.origins import built_by
    from mllint.core.scopes import build_scopes
    from mllint.dataflow.library import DATA_METHODS

    module = cst.parse_module(textwrap.dedent("""
        def f(model, size, images):
            probe = torch.rand(size)
            if cuda:
                probe = probe.cuda()
            noise = torch.randn(4) * 0.5 + torch.zeros(4)
            batch = torch.zeros(2, 3)
            batch[0] = images[0]
            mixed = probe + images
            model(probe)
    """))
    top, scopes = build_scopes(module)
    function = module.body[0]
    scope = scopes[id(function)]
    filled = lambda name: name == "batch"  # noqa: E731 - `batch[0] = images[0]`
    assert built_by(cst.Name("probe"), scope, DATA_METHODS, filled) == {"rand"}
    assert built_by(cst.Name("noise"), scope, DATA_METHODS, filled) == {"randn", "zeros"}
    assert built_by(cst.Name("batch"), scope, DATA_METHODS, filled) is None  # filled with data
    assert built_by(cst.Name("mixed"), scope, DATA_METHODS, filled) is None  # a parameter's data
    assert built_by(cst.Name("images"), scope, DATA_METHODS, filled) is None


def test_opt_in_flip_gate_message_says_why_a_default_on_option_is_no_switch():
    (finding,) = lint_fixture("eval_pos_flip_option_always_on")
    assert finding.code == "EVAL003"
    assert finding.message.endswith("(`--mirror-average` is `store_true` with `default=True`: it cannot be turned off, "
                                    "so it is no switch)")
