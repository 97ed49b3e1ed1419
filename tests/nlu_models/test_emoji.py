"""Emoji read as words before the intent model reads a message (the tokenizer has no pieces for them)."""

from __future__ import annotations

import pytest

from nlu_models.emoji import emoji_as_words


@pytest.mark.parametrize(
    "typed, read",
    [
        ("👋", "hi"),
        ("👍", "ok"),
        ("👍🏽 thanks", "ok thanks"),
        ("thanks🙏", "thanks thanks"),
        ("where's my package 📦", "where's my package parcel"),
        ("😡", "this is so annoying"),
    ],
)
def test_common_emoji_become_the_words_they_stand_for(typed: str, read: str) -> None:
    assert emoji_as_words(typed) == read


def test_text_without_those_emoji_is_left_as_it_is() -> None:
    for text in ("where is my order 10000003?", "  spaced  out  ", "🦄 unicorn backpack", ""):
        assert emoji_as_words(text) == text
