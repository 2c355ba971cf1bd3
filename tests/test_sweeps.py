"""Sweep evidence in shell scripts and configs: what counts as running several seeds, and what does not."""
import pytest

from mllint.rules.seed.sweeps import scan_aux_file

SWEEPS = {
    "run.sh": [
        "for seed in 0 1 2; do python train.py --seed $seed; done\n",
        "for s in {1..5}\ndo\n  python train.py --seed=$s\ndone\n",
        "for i in $(seq 0 4); do python main.py --seed ${i}; done\n",
        "python train.py --seed 1\npython train.py --seed 2\n",
        "python train.py -m seed=0,1,2 lr=0.1\n",
        "python train.py --seeds 0 1 2\n",
        "python train.py hydra.sweeper.params.seed='range(0,5)'\n",
        "SEEDS=5\nfor ((SEED=1;SEED<=SEEDS;SEED++)); do\n  python3 src/train.py --seed $SEED\ndone\n",
        "for ((i=0; i<5; i++)); do python train.py --randomSeed=$i; done\n",
        "seeds=(11 22 33)\nfor x in ${seeds[@]}; do python train.py --seed=$x; done\n",
        "for run in a b c; do sbatch --export=seed=$run job.sh; done\n",
    ],
    "Makefile": ["sweep:\n\tfor seed in 1 2 3; do python train.py --seed $$seed; done\n"],
    "conf.yaml": [
        "seeds: [0, 1, 2]\n",
        "train:\n  seed: [1, 2, 3]\n",
        "seeds:\n  - 0\n  - 1\n",
        "parameters:\n  seed:\n    values: [1, 2, 3]\n",
        "parameters:\n  seed:\n    values:\n    - 1\n    - 2\n",
        "hydra:\n  sweeper:\n    params:\n      seed: 0,1,2\n",
        "hydra:\n  sweeper:\n    params:\n      seed: range(0, 5)\n",
    ],
    "sweep.json": ['{"parameters": {"seed": {"values": [0, 1, 2]}}}', '{"seeds": [1, 2]}'],
    "sweep.toml": ["seeds = [0, 1, 2]\n", "[parameters.seed]\nvalues = [3, 4]\n"],
}
NOT_SWEEPS = {
    "run.sh": [
        "python train.py --seed 42\n",
        "for lr in 0.1 0.01; do python train.py --lr $lr --seed 0; done\n",
        "SEED=1\npython train.py --seed $SEED\npython eval.py --seed $SEED\n",
        "python train.py --seed 42\npython eval.py --seed 42\n",
        "for ((epoch=0; epoch<5; epoch++)); do python train.py --epoch $epoch --seed 1; done\n",
        "seeds=(7)\n",
    ],
    "conf.yaml": ["seed: 42\nlr: [0.1, 0.01]\n", "manual_seed: 0\n", "seeds: [0]\n"],
    "cfg.json": ['{"seed": 42, "lr": [0.1, 0.2]}', "not json at all", '{"seed": [7, 7]}'],
    "cfg.toml": ["seed = 42\n", "not = toml = at all\n"],
}


def cases(table):
    return [(name, text) for name, texts in table.items() for text in texts]


@pytest.mark.parametrize("name, text", cases(SWEEPS))
def test_sweep_is_found(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    found = scan_aux_file(str(path), name)
    assert found, text
    assert all(isinstance(line, int) and line >= 1 and why for line, why in found)


@pytest.mark.parametrize("name, text", cases(NOT_SWEEPS))
def test_single_seed_is_not_a_sweep(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert scan_aux_file(str(path), name) == []


def test_binary_and_unreadable_aux_files(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"seeds: [1, 2]\x00\x01")
    assert scan_aux_file(str(path), "x.yaml") == []
    assert scan_aux_file(str(tmp_path / "missing.sh"), "missing.sh") == []
