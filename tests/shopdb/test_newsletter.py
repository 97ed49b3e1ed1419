"""A customer's newsletter consent: read, changed only when it really changes, with the time of the change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shopdb import demo_data as gen
from shopdb import models as m
from shopdb.db import create_db_engine, migrate, session_factory, session_scope
from shopdb.newsletter import newsletter_state, set_newsletter

T1 = dt.datetime(2025, 3, 1, 9, 0)
T2 = dt.datetime(2025, 3, 2, 9, 0)


def _shop(tmp_path):
    url = f"sqlite:///{tmp_path / 'n.db'}"
    migrate(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    with session_scope(sessions) as s:
        s.add_all(
            [
                m.Customer(customer_id="C0000001", email="a@example.com", name="A"),
                m.Customer(customer_id="C0000002", email="b@example.com", name="B"),
            ]
        )
    return engine, sessions


def test_subscribe_and_unsubscribe_record_when_they_changed(tmp_path):
    engine, sessions = _shop(tmp_path)
    assert newsletter_state(sessions, "C0000001") == (state := newsletter_state(sessions, "c0000001"))
    assert state is not None and not state.subscribed and state.changed_at is None
    change = set_newsletter(sessions, "C0000001", True, clock=lambda: T1)
    assert change is not None and change.changed and change.state.subscribed and change.state.changed_at == T1
    again = set_newsletter(sessions, "C0000001", True, clock=lambda: T2)
    assert again is not None and not again.changed and again.state.changed_at == T1  # nothing changed, nothing recorded
    off = set_newsletter(sessions, "C0000001", False, clock=lambda: T2)
    assert off is not None and off.changed and not off.state.subscribed and off.state.changed_at == T2
    with sessions() as s:
        other = s.execute(select(m.Customer).where(m.Customer.customer_id == "C0000002")).scalar_one()
        assert not other.newsletter and other.newsletter_changed_at is None
    engine.dispose()


def test_unknown_or_malformed_customer_ids_change_nothing(tmp_path):
    engine, sessions = _shop(tmp_path)
    for bad in ("C9999999", "' OR 1=1 --", None, 42):
        assert newsletter_state(sessions, bad) is None
        assert set_newsletter(sessions, bad, True) is None
    with sessions() as s:
        assert s.execute(select(m.Customer.newsletter)).scalars().all() == [False, False]
    engine.dispose()


def test_demo_customers_have_a_consent_with_its_date():
    alex, sam, *others = gen.generate_customers(30, today=dt.date(2025, 3, 1))
    assert alex.newsletter and alex.newsletter_changed_at is not None
    assert not sam.newsletter and sam.newsletter_changed_at is None
    assert any(c.newsletter for c in others) and not all(c.newsletter for c in others)
    assert all((c.newsletter_changed_at is not None) == c.newsletter for c in others)
