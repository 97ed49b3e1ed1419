"""Spelling repair: which words it touches, what it turns them into, and that the model reads the repair."""

from __future__ import annotations

import numpy as np
import pytest

from nlu_models.config import ClassifierConfig
from nlu_models.data import IntentData
from nlu_models.intent_model import IntentModel, save_trained
from nlu_models.spelling import SpellingRepair, one_edit_apart, word_counts
from nlu_models.training import train_classifier

WORDS = {"correcting": 3, "download": 5, "send": 9, "order": 4, "older": 1, "refund": 2}


@pytest.mark.parametrize(
    "slip, word",
    [
        ("corrcting", "correcting"),  # dropped letter
        ("downnload", "download"),  # doubled letter
        ("sedn", "send"),  # swapped neighbours
        ("ordar", "order"),  # replaced letter
    ],
)
def test_one_slip_is_repaired(slip, word):
    assert one_edit_apart(slip, word) and one_edit_apart(word, slip)
    assert SpellingRepair(WORDS).correction(slip) == word


@pytest.mark.parametrize(
    "a, b", [("order", "order"), ("send", "dens"), ("refund", "rfeudn"), ("download", "downlo"), ("abcd", "bcda")]
)
def test_two_slips_or_none_are_not_one_edit(a, b):
    assert not one_edit_apart(a, b)


def test_known_short_and_far_words_are_kept():
    repair = SpellingRepair(WORDS, known_words={"sneakers", "ordee"})
    assert repair.correction("ordee") is None  # a whole word of the tokenizer: not a slip
    assert repair.correction("ord") is None  # under four letters: too ambiguous
    assert repair.correction("zzzzzz") is None  # nothing one slip away
    assert repair.correction("download") is None  # a training word itself


def test_most_frequent_training_word_wins_a_tie():
    # "oxder" is one replaced letter from both "order" (4 uses) and "older" (1 use)
    assert SpellingRepair(WORDS).correction("oxder") == "order"
    assert SpellingRepair({**WORDS, "older": 50}).correction("oxder") == "older"


def test_text_outside_repaired_words_is_kept_as_typed():
    repair = SpellingRepair(WORDS)
    assert repair("Please sedn order #12345, Corrcting it!") == "Please send order #12345, Correcting it!"
    assert repair("") == ""


def test_word_counts_lower_case_letters_only():
    assert word_counts(["Order 12 orders", "order-status"]) == {"order": 2, "orders": 1, "status": 1}


@pytest.mark.slow
def test_model_reads_the_repaired_message(tmp_path, tiny):
    config = ClassifierConfig(**{**tiny.config, "backend": "torch", "spelling_repair": True})
    trained = train_classifier(IntentData(tiny.texts, tiny.labels), config)
    save_trained(trained, config, tmp_path)
    model = IntentModel.load(tmp_path)
    assert model.meta["vocabulary"]["refund"] == sum(
        w.strip(",.?!") == "refund" for t in tiny.texts for w in t.lower().split()
    )
    typed, meant = ["where is my ordr", "i want a refnud"], ["where is my order", "i want a refund"]
    assert np.allclose(model.logits(typed), model.logits(meant))
    unrepaired = IntentModel.load(tmp_path, spelling_repair=False)
    assert not np.allclose(unrepaired.logits(typed), unrepaired.logits(meant))
