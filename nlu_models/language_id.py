"""Which language a short shop message is in, and whether the bot should treat it as another language.

Lingua (``lingua-language-detector``, built for short texts) ranks the ``languages`` the shop's
shoppers write; a message goes to ``other_language`` only when another language than the bot's is
first with at least ``min_confidence`` and the message has ``min_letters`` letters. Both thresholds
trade the foreign messages answered in their language against English ones answered "I can only chat
in English" in Danish, which is worse than an English guess: ``shop bench languages`` measures both.

Apart from the Rasa component (``nlu_models.language_detector``) so that ``shop bench languages``
(``perf/language_benchmark.py``) measures exactly the component's decision, and its memory, without
loading Rasa's graph (TensorFlow: half a gigabyte, ten times Lingua's low-accuracy models).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional, Tuple

BOT_LANGUAGE = "en"
# The languages the domain answers in (``utter_other_language`` has words for each), English first.
ANSWERED_LANGUAGES = tuple("en de fr es it nl pt pl sv da fi cs tr zh ja ru ar".split())
# ... and neighbours of theirs (Norwegian, Catalan, Slovak, Ukrainian) and of nearby markets: the wider
# list the benchmark weighs against it (a shopper writing these gets the English apology and a person).
WIDER_LANGUAGES = (*ANSWERED_LANGUAGES, *"nb ca ro sk uk hu el ko".split())
ACCURACY_MODES = ("high", "low")  # Lingua's models: high ~500 MB per process for 17 languages, low ~45 MB


@dataclass(frozen=True)
class LanguageSettings:
    languages: Tuple[str, ...]
    accuracy: str  # one of ACCURACY_MODES
    min_confidence: float
    min_letters: int
    bot_language: str = BOT_LANGUAGE
    # A single word ("klarna?", "paypal?", "nordlys?", "merci") is mostly a name or a loan word: Lingua gives
    # brand and payment names 0.5-0.8 for Swedish or Danish. One word goes away only when Lingua is this sure
    # ("kiitos", "dziękuję"); "bonjour" (0.76) is then read as English, and the next sentence tells.
    one_word_confidence: float = 0.0


# Chosen by `shop bench languages` (perf.language_benchmark.choose) on dev data only: the dev file's 16
# foreign languages, and an English pool of 40,677 messages that are not report data (the hand-written
# short chat English of perf/data/language_id_dev_english.jsonl and the dev file's, the training splits
# of Bitext, CLINC150, HWU64 and BANKING77). Rule, fixed before the pool was measured: at most 0.5 % of
# the pool and at most 1 % of its 1,317 short messages (1-12 letters) sent to other_language, then the
# best mean accuracy over the foreign languages; low accuracy unless high adds 5 points. Low accuracy's
# best within the budgets (min_confidence 0.95) reaches 0.835, high 0.937 (dev: 0.14 % of the pool and
# 0.53 % of its short messages sent away). The one-word bar (0.9) is what lets the general one drop to
# 0.4 within the budgets: single names and loan words were most of the short English sent away. Bare
# foreign street addresses and "postcode 1017 CT" can still go (docs/benchmarks.md).
# The benchmark says when a new choice differs from these.
DEFAULT_SETTINGS = LanguageSettings(
    languages=ANSWERED_LANGUAGES, accuracy="high", min_confidence=0.4, min_letters=2, one_word_confidence=0.9
)


@lru_cache(maxsize=4)
def detector(languages: Tuple[str, ...], accuracy: str) -> Any:
    """Lingua's detector for these ISO 639-1 codes; its models load once per process, here."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    if accuracy not in ACCURACY_MODES:
        raise ValueError(f"accuracy must be one of {', '.join(ACCURACY_MODES)}, not {accuracy!r}")
    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    builder = LanguageDetectorBuilder.from_languages(*chosen)
    if accuracy == "low":
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


def letters(text: str) -> int:
    """Letters, where a Chinese or Japanese character counts as two (one carries a word's meaning)."""
    count = 0
    for char in text:
        if char.isalpha():
            count += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return count


def best_language(text: str, languages: Tuple[str, ...], accuracy: str) -> Tuple[Optional[str], float]:
    """Lingua's first language for ``text`` (ISO 639-1) and its confidence; (None, 0.0) without one."""
    values = detector(languages, accuracy).compute_language_confidence_values(text)
    if not values or values[0].value <= 0.0:
        return None, 0.0
    return values[0].language.iso_code_639_1.name.lower(), float(values[0].value)


def too_short(text: str, settings: LanguageSettings) -> bool:
    """A button's payload, or too few letters to tell a language: left to the intent classifier."""
    return text.startswith("/") or letters(text) < settings.min_letters


def routed(code: Optional[str], confidence: float, settings: LanguageSettings) -> bool:
    """Whether Lingua's answer sends the message to ``other_language``."""
    return code is not None and code != settings.bot_language and confidence >= settings.min_confidence


_NUMBER = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_]+")


def looks_like_address(text: str) -> bool:
    """A postal address ("Keizersgracht 100, 1015 CV Amsterdam"): numbers, commas, names in capitals.

    Its street and town names are in the country's language, but the shopper is answering the
    delivery-address question in the bot's: the intent classifier and the form take it. A sentence
    in another language has lower-case words between its names ("Hallo, ich suche Schuhe 42").
    """
    words = _WORD.findall(text)
    if "," not in text or not _NUMBER.search(text) or not words:
        return False
    capitalised = sum(1 for word in words if word[0].isupper() or len(word) <= 2)
    return capitalised / len(words) >= 0.75


def other_language(text: str, settings: LanguageSettings = DEFAULT_SETTINGS) -> Optional[Tuple[str, float]]:
    """(ISO 639-1 code, confidence) when ``text`` is clearly in another language than the bot's, else None."""
    if too_short(text, settings) or looks_like_address(text):
        return None
    code, confidence = best_language(text, settings.languages, settings.accuracy)
    if code is None or not routed(code, confidence, settings) or not sure_enough(text, confidence, settings):
        return None
    return code, confidence


def one_word(text: str) -> bool:
    """A single word of an alphabet (a run of Chinese or Japanese characters is a sentence, not one word)."""
    words = _WORD.findall(text)
    return len(words) == 1 and letters(text) == len(words[0])


def sure_enough(text: str, confidence: float, settings: LanguageSettings) -> bool:
    """Whether Lingua's confidence is enough for this text: a single word needs ``one_word_confidence``."""
    return not one_word(text) or confidence >= settings.one_word_confidence


__all__ = [
    "ACCURACY_MODES",
    "ANSWERED_LANGUAGES",
    "DEFAULT_SETTINGS",
    "WIDER_LANGUAGES",
    "LanguageSettings",
    "best_language",
    "letters",
    "looks_like_address",
    "other_language",
    "routed",
    "sure_enough",
    "too_short",
]
