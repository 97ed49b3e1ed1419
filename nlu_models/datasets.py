"""The public intent data sets in ``../shared/data``, as (train, validation) splits.

Only train/validation splits are used (the test splits stay aside). BANKING77
ships no validation split, so one is carved from its train split with a fixed
seed; CLINC150's out-of-scope queries are labelled ``out_of_scope`` in both.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from nlu_models.data import IntentData, load_csv, stratified_split

OOS = "out_of_scope"
BANKING77_VALIDATION = 0.1
SPLIT_SEED = 0


def data_root() -> Path:
    """The folder of the public data sets: ``SHOP_DATASETS_DIR`` (default ``../shared/data``)."""
    from core.settings import get_settings

    return get_settings().datasets_dir


Splits = Tuple[IntentData, IntentData]


def bitext(root: Path) -> Splits:
    folder = root / "bitext-cs-intents"
    return load_csv(folder / "train.csv"), load_csv(folder / "validation.csv")


def banking77(root: Path) -> Splits:
    full = load_csv(root / "banking77" / "train.csv", "text", "category")
    return stratified_split(full, BANKING77_VALIDATION, SPLIT_SEED)


def clinc150(root: Path) -> Splits:
    raw = json.loads((root / "clinc150" / "data_full_trainval.json").read_text(encoding="utf-8"))

    def split(*keys: str) -> IntentData:
        rows = [row for key in keys for row in raw[key]]
        return IntentData([t for t, _ in rows], [OOS if label == "oos" else label for _, label in rows])

    return split("train", "oos_train"), split("val", "oos_val")


def hwu64(root: Path) -> Splits:
    def split(name: str) -> IntentData:
        folder = root / "hwu64" / name
        texts = (folder / "seq.in").read_text(encoding="utf-8").splitlines()
        labels = (folder / "label").read_text(encoding="utf-8").splitlines()
        return IntentData([t.strip() for t in texts], [label.strip() for label in labels])

    return split("train"), split("valid")


DATASETS: Dict[str, Callable[[Path], Splits]] = {
    "bitext": bitext,
    "banking77": banking77,
    "clinc150": clinc150,
    "hwu64": hwu64,
}


def cap(data: IntentData, limit: Optional[int], seed: int = SPLIT_SEED) -> IntentData:
    """At most ``limit`` examples, drawn per intent so every intent keeps its share."""
    if not limit or len(data) <= limit:
        return data
    fraction = limit / len(data)
    by_label: Dict[str, list] = {}
    for i, label in enumerate(data.labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    keep = []
    for label in sorted(by_label):
        idx = by_label[label][:]
        rng.shuffle(idx)
        keep.extend(idx[: max(1, round(len(idx) * fraction))])
    return data.subset(sorted(keep))


def load_splits(
    name: str, root: Optional[Path] = None, max_train: Optional[int] = None, max_eval: Optional[int] = None
) -> Splits:
    """Train and validation data of one public data set, optionally capped."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose from {sorted(DATASETS)}")
    train, validation = DATASETS[name](root or data_root())
    return cap(train, max_train), cap(validation, max_eval)
