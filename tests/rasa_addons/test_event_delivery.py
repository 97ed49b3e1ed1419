"""A turn's publishes are awaited before the answer (the kill test in tests/scaleout proves it end to end)."""

from __future__ import annotations

import asyncio

from rasa_addons.patches import event_delivery


def test_waits_for_the_publishes_a_save_started() -> None:
    async def scenario() -> tuple:
        confirmed = []

        async def publish(delay: float) -> None:
            await asyncio.sleep(delay)
            confirmed.append(delay)

        quick = {asyncio.create_task(publish(0.05)), asyncio.create_task(publish(0.1))}
        on_time = await event_delivery.wait_for_publishes(quick, timeout=5)
        stuck = {asyncio.create_task(publish(10))}
        late = await event_delivery.wait_for_publishes(stuck, timeout=0.1)
        for task in stuck:
            task.cancel()
        return on_time, sorted(confirmed), late

    on_time, confirmed, late = asyncio.run(scenario())
    assert on_time and confirmed == [0.05, 0.1]
    assert late is False


def test_install_wraps_rasas_save_tracker_once() -> None:
    from rasa.core.processor import MessageProcessor

    event_delivery.install()
    patched = MessageProcessor.save_tracker
    event_delivery.install()
    assert MessageProcessor.save_tracker is patched
    assert patched.__code__.co_filename.endswith("event_delivery.py")
