"""Real-time shopper insights: the event stream consumer, intent profiles,
profile-aware recommendation ranking, analytics and the shopper's data rights.

Entry points for other parts of the assistant (details in each module):

- ``insights.profile_store.get_profile(sender_id=..., customer_id=...)`` -> ``Profile``
- ``insights.handoff_rule.should_offer_human(profile)`` / ``offer_reason(profile)``
- ``insights.handoff_summary.summarise_for_handoff(profile)`` -> str for the hand-off ticket
- ``insights.recommend.rank(candidates, profile, purchases)`` -> re-ranked candidates
- ``insights.site_events.record(data, sender_id=..., customer_id=..., broker=...)``
- ``insights.api``: Sanic blueprints (site events, analytics page, export/delete)
- ``shop insights consume | report | export | delete | purge`` (``python -m insights``)
"""
