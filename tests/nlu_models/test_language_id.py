"""Language identification: the decision's parts, Lingua on clear messages, the Rasa component."""

from __future__ import annotations

import pytest

from nlu_models.language_id import (
    ANSWERED_LANGUAGES,
    DEFAULT_SETTINGS,
    LanguageSettings,
    detector,
    letters,
    looks_like_address,
    other_language,
    routed,
    too_short,
)

# Low accuracy in the tests: 40 MB and a fraction of a second instead of 500 MB and five seconds.
LOW = LanguageSettings(ANSWERED_LANGUAGES, "low", min_confidence=0.5, min_letters=5)


def test_letters_count_cjk_characters_twice_and_skip_digits_and_punctuation() -> None:
    assert letters("ok!! 123") == 2
    assert letters("谢谢") == 4 and letters("はい") == 4
    assert letters("Größe?") == 5


def test_payloads_and_short_messages_are_left_to_the_intent_classifier() -> None:
    assert too_short('/inform{"order_item": "17"} bitte sehr', LOW)
    assert too_short("thx", LOW) and too_short("谢谢", LOW)
    assert not too_short("merci", LOW) and not too_short("多谢啦", LOW)


def test_only_another_language_clearly_ahead_is_routed() -> None:
    assert routed("de", 0.5, LOW) and routed("de", 0.9, LOW)
    assert not routed("de", 0.49, LOW)
    assert not routed("en", 1.0, LOW)
    assert not routed(None, 0.0, LOW)


def test_a_single_word_needs_a_surer_language() -> None:
    """ "klarna?" or "paypal?" is a name, not Swedish or Danish: one word goes away only at the one-word bar."""
    from nlu_models.language_id import one_word, sure_enough

    assert one_word("klarna?") and one_word("merci") and not one_word("uh-huh") and not one_word("你好我的订单")
    bar = LanguageSettings(ANSWERED_LANGUAGES, "low", min_confidence=0.5, min_letters=5, one_word_confidence=0.9)
    assert not sure_enough("klarna?", 0.8, bar) and sure_enough("kiitos", 0.96, bar)
    assert sure_enough("ich suche Schuhe", 0.6, bar)  # more than one word: the general bar
    assert not sure_enough("paypal?", 0.8, DEFAULT_SETTINGS) and sure_enough("paypal?", 0.8, LOW)


def test_clear_messages_in_lingua() -> None:
    code, confidence = other_language("wo ist meine Bestellung? ich warte schon lange", LOW) or ("", 0.0)
    assert code == "de" and confidence >= 0.5
    assert other_language("はい、注文をキャンセルしてください", LOW) == ("ja", pytest.approx(1.0))
    assert other_language("where is my order, I have been waiting for ages", LOW) is None
    assert other_language("/affirm", LOW) is None


@pytest.mark.parametrize(
    "address", ["Canal Street 12, 1012 AB Amsterdam", "Alex Morgan, Keizersgracht 100, 1015 CV Amsterdam, NL"]
)
def test_an_address_typed_into_the_form_stays_with_the_form(address: str) -> None:
    """Street and town names read Dutch, but the shopper is answering the bot's question in English."""
    assert looks_like_address(address)
    assert other_language(address, LOW) is None


@pytest.mark.parametrize(
    "sentence", ["Hallo, ich suche wasserdichte Wanderschuhe Größe 42", "Hola, donde esta mi pedido 10000001?"]
)
def test_a_sentence_with_numbers_and_commas_is_not_an_address(sentence: str) -> None:
    assert not looks_like_address(sentence)
    assert other_language(sentence, LOW) is not None


def test_an_unknown_accuracy_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="accuracy must be one of high, low"):
        detector(("en", "de"), "medium")


def test_the_component_routes_another_language_and_keeps_english() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from nlu_models.language_detector import LanguageDetector

    defaults = LanguageDetector.get_default_config()
    assert defaults == {
        "bot_language": "en",
        "languages": list(DEFAULT_SETTINGS.languages),
        "accuracy": DEFAULT_SETTINGS.accuracy,
        "min_confidence": DEFAULT_SETTINGS.min_confidence,
        "min_letters": DEFAULT_SETTINGS.min_letters,
        "one_word_confidence": DEFAULT_SETTINGS.one_word_confidence,
    }
    component = LanguageDetector({**defaults, "accuracy": "low", "min_confidence": 0.5, "min_letters": 5})
    greet = {"name": "greet", "confidence": 0.7}
    german = Message(data={"text": "Wo ist meine Bestellung? Ich warte schon lange", "intent": greet})
    english = Message(data={"text": "where is my order, I have been waiting for ages", "intent": greet})
    payload = Message(data={"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}})
    component.process([german, english, payload])

    assert german.get("intent")["name"] == "other_language"
    (entity,) = german.get("entities")
    assert entity["entity"] == "language" and entity["value"] == "de" and entity["extractor"] == "LanguageDetector"
    assert english.get("intent") == greet and not english.get("entities")
    assert payload.get("intent")["name"] == "affirm"


def test_the_defaults_leave_very_short_chat_english_to_the_intent_classifier() -> None:
    """The defaults (chosen by `shop bench languages` on its dev data, with Lingua's high-accuracy models):
    short chat English and single names stay English; a short message clearly in another language goes."""
    short_english = ("thx", "bye", "ya", "ttyl", "k thx", "ok!", "ok thx bye", "klarna?", "paypal?", "merci")
    assert [text for text in short_english if other_language(text, DEFAULT_SETTINGS)] == []
    assert (other_language("多谢啦", DEFAULT_SETTINGS) or ("",))[0] == "zh"
    assert too_short("/affirm", DEFAULT_SETTINGS)
