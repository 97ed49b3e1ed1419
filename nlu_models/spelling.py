"""Spelling repair before the intent model: a misspelt word becomes the training word one slip away.

Why: a word-piece tokenizer cuts a misspelt word ("corrcting", "downloa", "sedn") into
pieces the fine-tuned model has rarely seen, while Rasa's DIET absorbs the slip through
its character n-grams. Typo augmentation teaches the model some slips; repairing the
word first handles any slip of one letter, in every back end, at no cost to the model.

Only words that are safe to touch are repaired: four letters or more, absent from the
training messages and not a whole word of the tokenizer's vocabulary (so "sneakers"
stays "sneakers" even when no training message names it). The replacement is the most
frequent training word one edit away (a dropped, added, replaced or swapped letter).
The index is SymSpell's idea (Garbe 2012) cut to one edit: every word is stored under
each of its one-letter deletions, so a lookup is a handful of dictionary hits.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Collection, Dict, Iterable, List, Mapping, Optional, Set

MIN_LETTERS = 4
_WORD = re.compile(r"[^\W\d_]+")


def word_counts(texts: Iterable[str]) -> Dict[str, int]:
    """Lower-cased words of ``texts`` with their counts (the vocabulary to repair towards)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w.lower() for w in _WORD.findall(text))
    return dict(counts)


def _deletions(word: str) -> Set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit_apart(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one letter dropped, added, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long_ = sorted((a, b), key=len)
        return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


class SpellingRepair:
    """Repairs messages towards the words of the training data (see the module docstring)."""

    def __init__(self, vocabulary: Mapping[str, int], known_words: Collection[str] = ()) -> None:
        self.counts = {w.lower(): int(c) for w, c in vocabulary.items()}
        self.known = set(known_words)
        self._by_deletion: Dict[str, List[str]] = defaultdict(list)
        for word in self.counts:
            for deleted in _deletions(word):
                self._by_deletion[deleted].append(word)

    def correction(self, word: str) -> Optional[str]:
        """The training word that ``word`` (lower case) is a slip of, or None to keep it."""
        if len(word) < MIN_LETTERS or word in self.counts or word in self.known:
            return None
        candidates = set(self._by_deletion.get(word, ()))  # a letter was dropped
        for deleted in _deletions(word):
            if deleted in self.counts:  # a letter was added
                candidates.add(deleted)
            candidates.update(self._by_deletion.get(deleted, ()))  # replaced or swapped (checked below)
        close = [c for c in candidates if one_edit_apart(word, c)]
        if not close:
            return None
        return min(close, key=lambda c: (-self.counts[c], c))

    def __call__(self, text: str) -> str:
        def repair(match: "re.Match[str]") -> str:
            typed = match.group(0)
            word = self.correction(typed.lower())
            if word is None:
                return typed
            return word.capitalize() if typed[0].isupper() else word  # for a cased tokenizer

        return _WORD.sub(repair, text)


def whole_words(tokenizer) -> Set[str]:
    """The tokenizer's vocabulary entries that are whole alphabetic words (no "##" pieces)."""
    return {t for t in tokenizer.get_vocab() if t.isalpha()}
