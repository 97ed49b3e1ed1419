"""The entity benchmark's own arithmetic: the split, the scores, and the baseline it compares with."""

from __future__ import annotations

import json

import pytest

from perf.entity_benchmark import DATA, ENTITIES, Score, labels_of, old_extract_filters, split
from retrieval.filters import ProductFilters


def test_the_labelled_set_is_large_enough_and_split_without_overlap():
    messages = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(messages) >= 200
    assert all(set(m["entities"]) <= set(ENTITIES) for m in messages)
    dev, report = split(messages)
    assert dev == messages[0::2] and report == messages[1::2] and len(dev) + len(report) == len(messages)


def test_precision_and_recall_count_every_entity_once():
    score = Score()
    score.add({"colour": "white", "size": "42"}, {"colour": "White", "size": "42", "brand": "Apexa"})
    score.add({"colour": "black", "price_max": 60}, {"colour": "navy", "price_max": 60.0})
    score.add({"size": "1,000 pieces", "capacity": 2}, {"size": "1000 pcs", "capacity": 2.0})
    assert score.prf("colour") == (0.5, 0.5, 0.5)  # a wrong value is a false positive and a false negative
    assert score.prf("brand") == (0.0, 0.0, 0.0)
    assert score.prf("size")[:2] == (1.0, 1.0) and score.prf("capacity")[:2] == (1.0, 1.0)
    precision, recall, f1 = score.prf()
    assert (precision, recall) == pytest.approx((5 / 7, 5 / 6)) and f1 == pytest.approx(2 * 5 / 13)


def test_the_baseline_is_the_old_extractor():
    text, f = old_extract_filters("black waterproof jacket under 120 euros size M", ["black", "navy"])
    assert f.max_price == 120 and f.colour == "black" and f.size == "M" and "120" not in text
    lamp = old_extract_filters("lamp between €20 and 50")[1]
    assert (lamp.min_price, lamp.max_price) == (20, 50)
    missed = old_extract_filters("whte sneakrs in sz 42 under 60 quid", ["white"])[1]
    assert labels_of(missed) == {**dict.fromkeys(ENTITIES), "price_max": 60.0}
    assert labels_of(ProductFilters(capacity="20,000 mAh"))["capacity"] == 20000.0
