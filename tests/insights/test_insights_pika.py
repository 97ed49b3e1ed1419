"""The RabbitMQ path: Rasa's PikaEventBroker publishes, our pika consumer builds profiles (RabbitMQ on loopback)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest
from rasa.shared.core.events import SessionStarted

from insights.consumer import PikaConsumer, ProfileUpdater
from insights.intent_meanings import Stage
from insights.profile_store import get_profile
from insights.stream import PikaEventSource

from .conftest import site, user

HOST = os.environ.get("SHOP_RABBITMQ_HOST", "127.0.0.1")
USER = os.environ.get("SHOP_RABBITMQ_USER", "guest")
PASSWORD = os.environ.get("SHOP_RABBITMQ_PASSWORD", "guest")


def rabbitmq_up() -> bool:
    try:
        with socket.create_connection((HOST, 5672), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [pytest.mark.services, pytest.mark.skipif(not rabbitmq_up(), reason="no RabbitMQ on loopback")]


def test_events_published_by_rasas_pika_broker_reach_the_profiles(shop):
    from rasa.core.brokers.pika import PikaEventBroker

    queue = f"shop_events_test_{uuid.uuid4().hex[:8]}"
    exchange = f"rasa-exchange-test-{uuid.uuid4().hex[:8]}"
    source = PikaEventSource(HOST, USER, PASSWORD, queue=queue, exchange=exchange)
    source.connect()  # declare and bind first, as the consumer service does at start-up
    boot = shop.product_id("BOOT-BRN-1")

    async def publish() -> None:
        broker = PikaEventBroker(
            HOST,
            USER,
            PASSWORD,
            queues=[queue],
            exchange_name=exchange,
            event_loop=asyncio.get_running_loop(),
            raise_on_failure=True,
        )
        await broker.connect()
        for event in (SessionStarted(), user("walking boots", "search_products"), user("gah", "nlu_fallback", 0.1)):
            broker.publish({"sender_id": "rabbit-1", **event.as_dict()})
        broker.publish(site("rabbit-1", "added_to_cart", product_id=boot))
        await asyncio.sleep(0.5)  # Rasa's broker publishes in background tasks
        await broker.close()

    try:
        asyncio.run(publish())
        consumer = PikaConsumer(source, ProfileUpdater(shop.sessions))
        assert consumer.consume_once(max_wait=2.0) == 4
        profile = get_profile("rabbit-1", sessions=shop.sessions)
        assert profile.carted == [boot] and profile.fallback_count == 1
        assert profile.stage is Stage.READY_TO_BUY
        assert consumer.consume_once(max_wait=0.3) == 0  # acknowledged: nothing is delivered twice
    finally:
        if source._channel is not None:
            source._channel.queue_delete(queue)
            source._channel.exchange_delete(exchange)
        source.close()
