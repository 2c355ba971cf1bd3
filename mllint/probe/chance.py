"""Two cautions about the probe's loss statistics, self-contained (no torch):

- on synthetic data (`--synthetic-data`, or a torchvision dataset whose files were missing) the labels are hashes
  of the sample index: nothing can be learnt, so a seed interval measures the noise of the training pipeline
  (initialisation, batch order, augmentation, dropout), not how much the seed moves a result;
- a final cross-entropy at ln(C) for C classes is the loss of a uniform guess: chance level. The model has learnt
  nothing in the steps run, and the spread of such losses says nothing about the method.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

CHANCE_TOLERANCE = 0.05  # relative distance to ln(C) that counts as "at chance level"

SYNTHETIC_CAVEAT = (
    "synthetic data: the labels are hashes of the sample index, so nothing can be learnt from them; the interval "
    "measures the seed noise of the training pipeline (initialisation, batch order, augmentation, dropout), not the "
    "noise of a result. Run with the real data for the spread of the result itself"
)


def chance_loss(n_classes: int) -> float:
    """The cross-entropy (natural log) of a uniform prediction over n_classes."""
    return math.log(n_classes)


def chance_level_note(losses: Sequence[float], n_classes: int | None) -> str | None:
    """A warning when the mean final loss sits within CHANCE_TOLERANCE of ln(n_classes), else None."""
    values = [float(v) for v in losses if v is not None and math.isfinite(v)]
    if not values or n_classes is None or n_classes < 2:
        return None
    mean = sum(values) / len(values)
    chance = chance_loss(n_classes)
    if abs(mean - chance) > CHANCE_TOLERANCE * chance:
        return None
    return (f"chance level: the final training loss ({mean:.4g}) is ln {n_classes} = {chance:.4g}, the cross-entropy "
            f"of a uniform guess over {n_classes} classes; the model has learnt nothing in these steps, so these "
            "losses (and their spread over seeds) say nothing about the method")


def classes_of_synthetic(names: Iterable[str]) -> int | None:
    """The number of classes of the synthetic datasets a run used (`MNIST(train)` -> 10), when they agree."""
    from .synthetic import SHAPES  # imports nothing from torch at module level

    counts = {SHAPES[name.split("(", 1)[0]][3] for name in names if name.split("(", 1)[0] in SHAPES}
    return counts.pop() if len(counts) == 1 else None


def loss_notes(final_losses: Sequence[float], synthetic: bool, n_classes: int | None) -> list[str]:
    """What the report says beside the loss statistics: the synthetic-data caveat, then the chance-level warning."""
    notes = [SYNTHETIC_CAVEAT] if synthetic else []
    chance = chance_level_note(final_losses, n_classes)
    if chance is not None:
        notes.append(chance)
    return notes
