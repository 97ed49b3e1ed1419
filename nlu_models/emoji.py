"""Emoji read as the words shoppers mean by them, before the intent model reads a message.

The model's tokenizer has no pieces for emoji: "👋", "👍" and "😡" all become the same unknown token, so
a message of emoji alone gets whatever the model guesses for it ("👋" read as goodbye). Chat shoppers
send them as whole answers ("👍" for yes, "🙏" for thanks), so the common ones are replaced by a word of
that meaning; the others stay as they are. The training data holds none, so training is unchanged.
"""

from __future__ import annotations

import re
from typing import Dict

# Each emoji (and its variants) -> the words read in its place.
EMOJI_WORDS: Dict[str, str] = {
    **dict.fromkeys("👍 👌 🆗 ✅ ✔️ ✔ 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿".split(), "ok"),
    **dict.fromkeys("👎 👎🏻 👎🏼 👎🏽 👎🏾 👎🏿".split(), "no"),
    **dict.fromkeys("🙏 🙏🏻 🙏🏼 🙏🏽 🙏🏾 🙏🏿 🤝".split(), "thanks"),
    **dict.fromkeys("👋 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿 🙋 🙋‍♀️ 🙋‍♂️".split(), "hi"),
    **dict.fromkeys("😊 🙂 😀 😃 😄 😁 🥰 😍 ❤️ ❤ ♥️ 💕 🎉".split(), "great"),
    **dict.fromkeys("😡 😠 🤬 😤 💢".split(), "this is so annoying"),
    **dict.fromkeys("😢 😭 😞 😔 ☹️ 🙁".split(), "this is sad"),
    **dict.fromkeys("🤔 ❓ ❔".split(), "?"),
    "📦": "parcel",
}
_EMOJI = re.compile("|".join(re.escape(e) for e in sorted(EMOJI_WORDS, key=len, reverse=True)))


def emoji_as_words(text: str) -> str:
    """``text`` with the common emoji replaced by their words ("👍" -> "ok"), spaced from their neighbours."""
    if not text or not _EMOJI.search(text):
        return text
    return " ".join(_EMOJI.sub(lambda found: f" {EMOJI_WORDS[found.group(0)]} ", text).split())


__all__ = ["EMOJI_WORDS", "emoji_as_words"]
