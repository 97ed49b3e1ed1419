"""Training data for the intent classifier: loading, validation split, synthetic outliers.

Kept apart from the training loop so the Rasa glue, the CLI and the benchmark
feed the same :class:`IntentData` through the same split and the same outliers.
"""

from __future__ import annotations

import csv
import random
import string
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

TEXT_COLUMNS = ("text", "utterance", "sentence", "query")
LABEL_COLUMNS = ("intent", "label", "category")


@dataclass
class IntentData:
    """Parallel lists of messages and their intent names."""

    texts: List[str] = field(default_factory=list)
    labels: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def intents(self) -> List[str]:
        """Sorted distinct intent names (the label order of a trained model)."""
        return sorted(set(self.labels))

    def subset(self, indices: Iterable[int]) -> "IntentData":
        idx = list(indices)
        return IntentData([self.texts[i] for i in idx], [self.labels[i] for i in idx])

    def without(self, intent: str) -> "IntentData":
        keep = [i for i, label in enumerate(self.labels) if label != intent]
        return self.subset(keep)


def load_rasa_nlu(path: Path) -> IntentData:
    """Intent examples of a Rasa NLU file or folder (yml/json/md, as Rasa reads them)."""
    from rasa.shared.nlu.training_data.loading import load_data

    training = load_data(str(path))
    examples = [e for e in training.intent_examples if e.get("text") and e.get("intent")]
    return IntentData([e.get("text") for e in examples], [e.get("intent") for e in examples])


def load_csv(path: Path, text_column: Optional[str] = None, label_column: Optional[str] = None) -> IntentData:
    """Messages and intents of a CSV with a header; the columns are guessed when not named."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        text_column = text_column or _pick(columns, TEXT_COLUMNS, path)
        label_column = label_column or _pick(columns, LABEL_COLUMNS, path)
        texts, labels = [], []
        for row in reader:
            text, label = (row.get(text_column) or "").strip(), (row.get(label_column) or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    return IntentData(texts, labels)


def load_any(path: Path) -> IntentData:
    """A CSV by its suffix, anything else as Rasa NLU data."""
    return load_csv(path) if Path(path).suffix.lower() in {".csv", ".tsv"} else load_rasa_nlu(path)


def _pick(columns: Sequence[str], candidates: Sequence[str], path: Path) -> str:
    for name in candidates:
        if name in columns:
            return name
    raise ValueError(f"{path}: none of the columns {list(candidates)} found (have {list(columns)})")


def stratified_split(data: IntentData, fraction: float, seed: int) -> Tuple[IntentData, IntentData]:
    """Holds out ``fraction`` of each intent (never an intent's last example).

    Intents with a single example stay wholly in training, so tiny Rasa projects
    still train; the split depends only on the data and the seed.
    """
    if fraction <= 0:
        return data, IntentData()
    by_label: Dict[str, List[int]] = defaultdict(list)
    for i, label in enumerate(data.labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    train_idx, val_idx = [], []
    for label in sorted(by_label):
        idx = by_label[label][:]
        rng.shuffle(idx)
        n_val = min(int(round(len(idx) * fraction)), len(idx) - 1)
        val_idx.extend(idx[:n_val])
        train_idx.extend(idx[n_val:])
    return data.subset(sorted(train_idx)), data.subset(sorted(val_idx))


def synthetic_outliers(count: int, seed: int, vocabulary: Sequence[str] = ()) -> List[str]:
    """Messages that belong to no intent: keyboard mash, and salads of unrelated words.

    Why: a fine-tuned classifier is confidently wrong on such input unless it
    sees some while training (outlier exposure); real users type both.
    """
    rng = random.Random(seed)
    words = [w for w in vocabulary if w.isalpha() and len(w) > 2]
    out = []
    for i in range(count):
        if words and i % 2:
            out.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))))
        else:
            letters = string.ascii_lowercase + ("0123456789" if i % 5 == 0 else "")
            out.append(
                " ".join(
                    "".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(rng.randint(1, 5))
                )
            )
    return out


def with_typo(text: str, rng: random.Random) -> str:
    """``text`` with one typing slip in a word of four letters or more (dropped, doubled,
    swapped or replaced letter), or ``text`` itself when it has no such word."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    at = rng.randrange(1, len(word) - 1)  # keep the first letter: people rarely miss it
    slip = rng.choice(("drop", "double", "swap", "replace"))
    if slip == "drop":
        word = word[:at] + word[at + 1 :]
    elif slip == "double":
        word = word[:at] + word[at] + word[at:]
    elif slip == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    else:
        word = word[:at] + rng.choice(string.ascii_lowercase) + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def misspelt(data: IntentData, seed: int) -> IntentData:
    """Every example once, with one typo where it has a word of four letters or more
    (the benchmark's test of how a model reads misspelt messages)."""
    rng = random.Random(seed)
    return IntentData([with_typo(text, rng) for text in data.texts], list(data.labels))


def typo_copies(data: IntentData, fraction: float, seed: int) -> IntentData:
    """``fraction`` of the examples again, each with a typo (why: shoppers misspell, and a
    word-piece tokenizer splits a misspelt word into pieces the model has rarely seen)."""
    count = int(round(fraction * len(data)))
    if count <= 0 or len(data) == 0:
        return IntentData([], [])
    rng = random.Random(seed)
    picked = [rng.randrange(len(data)) for _ in range(count)]
    return IntentData([with_typo(data.texts[i], rng) for i in picked], [data.labels[i] for i in picked])
