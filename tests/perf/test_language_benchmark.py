"""The language benchmark's figures and its choice, on answers given by hand (no Lingua), and its dev data."""

from __future__ import annotations

from typing import Optional, Tuple

import pytest

from nlu_models.language_id import ANSWERED_LANGUAGES, WIDER_LANGUAGES, LanguageSettings, too_short
from perf import language_benchmark as bench

SETTINGS = LanguageSettings(ANSWERED_LANGUAGES, "low", min_confidence=0.5, min_letters=4)


def test_figures_score_the_components_decision() -> None:
    labelled = [
        ("wo ist mein paket", "de"),  # routed to de: right
        ("hvor er min pakke", "da"),  # Lingua says nb, not in the list's answers: wrong code
        ("danke", "de"),  # unsure: stays English, wrong for German
        ("tak", "da"),  # too short: stays English, wrong for Danish
        ("where is my parcel", "en"),  # stays English: right
        ("hvor er pakken min", "nb"),  # a language the bot has no words for: not in the mean
    ]
    answers = {
        "wo ist mein paket": ("de", 0.9),
        "hvor er min pakke": ("nb", 0.8),
        "danke": ("de", 0.4),
        "tak": ("da", 0.99),
        "where is my parcel": ("en", 0.95),
        "hvor er pakken min": ("nb", 0.7),
        "track my order": ("en", 0.9),
        "payment options": ("it", 0.6),
        "helloooo": ("it", 0.7),
        "thx": ("sv", 0.9),  # too short to be sent away
    }
    pool = bench.EnglishPool.of(
        {
            "chat": ["where is my parcel", "helloooo", "thx", "track my order"],
            "shop": ["track my order", "payment options", "Where is my  PARCEL"],
        },
        leave_out={"where is my parcel"},  # a report message: not in the dev pool
    )
    assert pool.sources == {
        "chat": ["helloooo", "thx", "track my order"],
        "shop": ["track my order", "payment options"],
    }
    assert pool.everything == ["helloooo", "thx", "track my order", "payment options"]
    assert pool.short == ["helloooo", "thx", "track my order"]  # 1 to 12 letters ("payment options": 14)

    result = bench.figures(SETTINGS, labelled, answers, pool)
    assert result.accuracy == {"de": 0.5, "da": 0.0, "en": 1.0, "nb": 1.0}
    assert result.mean_accuracy == pytest.approx(0.25)  # de, da: the foreign languages the bot answers in
    assert result.sent_away == {"chat": pytest.approx(1 / 3), "shop": 0.5}
    assert result.english_sent_away == 0.5 and result.short_sent_away == pytest.approx(1 / 3)
    assert result.english_counts == {"all": 4, "short": 3}
    assert bench.decision("payment options", ("it", 0.6), SETTINGS) == "it"
    assert bench.decision("/payment options", ("it", 0.6), SETTINGS) is None


@pytest.mark.parametrize("text", ["thx", "helloooo", "/affirm", "谢谢", "ok 123", "wo ist mein paket"])
@pytest.mark.parametrize("answer", [("de", 0.9), ("de", 0.3), ("en", 1.0), (None, 0.0)])
def test_the_decision_is_the_components(text: str, answer: Tuple[Optional[str], float]) -> None:
    code, confidence = answer
    expected = None if too_short(text, SETTINGS) or code in (None, "en") or confidence < 0.5 else code
    assert bench.decision(text, answer, SETTINGS) == expected


def _result(accuracy: str, mean: float, away: float, short: float = 0.0, languages=ANSWERED_LANGUAGES, **kw):
    settings = LanguageSettings(languages, accuracy, kw.get("confidence", 0.5), kw.get("letters", 5))
    return bench.Figures(settings, {}, {}, mean, {}, away, short, {})


def test_both_budgets_bind() -> None:
    assert bench.within_budget(_result("high", 0.9, 0.005, 0.01))
    assert not bench.within_budget(_result("high", 0.9, 0.006, 0.0))  # too much of the pool
    assert not bench.within_budget(_result("high", 0.9, 0.001, 0.011))  # too many short messages
    assert _result("high", 0.9, 0.0025, 0.02).over_budget == pytest.approx(2.0)


def test_low_accuracy_unless_high_adds_five_points_or_low_breaks_a_budget() -> None:
    low, high = _result("low", 0.90, 0.001), _result("high", 0.94, 0.001)
    chosen, per_mode = bench.choose([low, high])
    assert chosen is low and per_mode == {"high": high, "low": low}
    better_high = _result("high", 0.95, 0.001)
    assert bench.choose([low, better_high])[0] is better_high
    noisy_low = _result("low", 0.99, 0.006)
    assert bench.choose([noisy_low, high])[0] is high
    short_noisy_low = _result("low", 0.99, 0.001, short=0.02)
    assert bench.choose([short_noisy_low, high])[0] is high
    with pytest.raises(ValueError, match="no setting sends away at most"):
        bench.choose([noisy_low, _result("high", 0.99, 0.001, short=0.05)])


def test_best_of_prefers_accuracy_within_the_budgets_then_caution() -> None:
    accurate_but_noisy = _result("high", 0.99, 0.02)
    within = _result("high", 0.90, 0.004, 0.008)
    assert bench.best_of([accurate_but_noisy, within]) is within
    quieter = _result("high", 0.90, 0.001, 0.008)
    assert bench.best_of([within, quieter]) is quieter
    fewer_short = _result("high", 0.90, 0.001, 0.002)
    assert bench.best_of([quieter, fewer_short]) is fewer_short
    shorter_list = _result("high", 0.90, 0.001, confidence=0.4)
    wider = _result("high", 0.90, 0.001, languages=WIDER_LANGUAGES, confidence=0.9)
    assert bench.best_of([wider, shorter_list]) is shorter_list
    assert (
        bench.best_of([_result("high", 0.9, 0.001, letters=3), _result("high", 0.9, 0.001)]).settings.min_letters == 3
    )
    least_over = _result("low", 0.5, 0.007)  # 1.4 times the budget
    assert bench.best_of([_result("low", 0.9, 0.001, short=0.03), least_over]) is least_over


def test_the_dev_set_is_its_own_data() -> None:
    dev = bench.read_jsonl(bench.DEV_FILE)
    report = bench.read_jsonl(bench.REPORT_FILE)
    foreign = {lang for _, lang in dev if lang != "en"}
    assert len(dev) >= 150 and len(foreign & set(ANSWERED_LANGUAGES)) >= 8
    assert not {t.lower() for t, _ in dev} & {t.lower() for t, _ in report}
    assert len({t for t, _ in dev}) == len(dev)


def test_the_dev_chat_english_is_its_own_data() -> None:
    chat = bench.read_jsonl(bench.DEV_ENGLISH_FILE)
    assert len(chat) >= 150 and {lang for _, lang in chat} == {"en"}
    keys = [bench._key(t) for t, _ in chat]
    assert len(set(keys)) == len(keys)
    assert sum(bench.is_short(t) for t, _ in chat) >= 150
    report = [t for t, _ in bench.read_jsonl(bench.REPORT_FILE)] + bench.test_suite_english()
    assert not set(keys) & {bench._key(t) for t in report}
    assert not set(keys) & {bench._key(t) for t, _ in bench.read_jsonl(bench.DEV_FILE)}
