"""The few lines an agent reads about a shopper before taking over a conversation."""

from __future__ import annotations

from insights.intent_meanings import IntentKind, Stage
from insights.profile import Profile

_STAGE_WORDS = {
    Stage.BROWSING: "browsing",
    Stage.COMPARING: "comparing products",
    Stage.READY_TO_BUY: "ready to buy",
    Stage.POST_PURCHASE: "after a purchase",
    Stage.NEEDS_HELP: "needs help",
}


def summarise_for_handoff(profile: Profile) -> str:
    """A few lines an agent reads before taking over: goal, stage, interests, products, trouble."""
    lines = [f"Wants to: {profile.goal or (profile.last_intent or 'unknown').replace('_', ' ')}."]
    trouble = []
    if profile.fallback_count:
        trouble.append(f"{profile.fallback_count} message(s) not understood")
    if profile.frustration_count:
        trouble.append("signs of frustration")
    if profile.last_kind is IntentKind.COMPLAINT or "complaint" in profile.intents:
        trouble.append("complaint")
    stage = _STAGE_WORDS[profile.stage]
    lines.append(f"Stage: {stage}" + (f" ({', '.join(trouble)})." if trouble else "."))
    interests = profile.top_interests(2)
    parts = []
    if interests["categories"]:
        parts.append(", ".join(interests["categories"]))
    for name in ("brand", "colour", "size"):
        if interests.get(name):
            parts.append(f"{name} {'/'.join(interests[name])}")
    band = profile.price_band()
    if band:
        parts.append(f"price {band[0]:.0f}-{band[1]:.0f}")
    if parts:
        lines.append("Interested in: " + "; ".join(parts) + ".")
    for label, ids in (
        ("In cart", profile.carted),
        ("Viewed", profile.viewed[-3:]),
        ("Bought", profile.purchased[-3:]),
    ):
        if ids:
            names = [profile.products[i].title or i if i in profile.products else i for i in ids[-3:]]
            lines.append(f"{label}: {'; '.join(names)}.")
    if profile.unanswered:
        lines.append("Not understood: " + " | ".join(f'"{t}"' for t in profile.unanswered[-2:]))
    top = sorted(profile.intents.items(), key=lambda kv: -kv[1])[:4]
    if top:
        lines.append("Intents: " + ", ".join(f"{k} x{v}" for k, v in top) + ".")
    return "\n".join(lines)


__all__ = ["summarise_for_handoff"]
