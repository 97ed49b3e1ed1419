"""Scheduled retraining: ``SHOP_RETRAIN_SCHEDULE`` is a cron line; at each time it names, a
candidate is trained and gated (:func:`learning.retrain.retrain` with ``promote=True``): it goes
into service only when the gate passes, otherwise it stays a refused candidate in the registry.

``shop start`` runs :func:`run_forever` as its own process when the setting is set (the training
takes the CPU for minutes: never inside a server). The cron line is read by APScheduler's
``CronTrigger``, which Rasa already installs.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import warnings
from typing import Callable, Optional

from sqlalchemy.orm import sessionmaker

logger = logging.getLogger(__name__)

SCHEDULER_NAME = "schedule"  # who the registry says trained and promoted a scheduled run's model


CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron: 0 and 7 are Sunday


def _cron_weekdays(field: str) -> str:
    """Cron's day numbers as names: APScheduler counts from Monday = 0, cron from Sunday = 0."""
    return re.sub(r"(?<![/\d])([0-7])(?!\d)", lambda m: CRON_DAYS[int(m.group(1))], field)


def next_run(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time ``cron`` names after ``after`` (UTC); ValueError for a line that is not cron."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # apscheduler 3.9 imports pkg_resources
        from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"{cron!r}: a cron line has 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    trigger = CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(weekday), timezone="UTC"
    )
    fire = trigger.get_next_fire_time(None, after.replace(tzinfo=dt.timezone.utc))
    if fire is None:
        raise ValueError(f"{cron!r} never fires")
    return fire.astimezone(dt.timezone.utc).replace(tzinfo=None)


def run_forever(
    cron: str,
    sessions: sessionmaker,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
    sleep: Callable[[float], None] = time.sleep,
    rounds: Optional[int] = None,
) -> None:
    """Retrain (and promote only past the gate) at every time ``cron`` names; ``rounds``: stop after so many."""
    from learning.retrain import RetrainRefused, retrain

    done = 0
    while rounds is None or done < rounds:
        due = next_run(cron, now())
        logger.info("next scheduled retraining at %s UTC", due.isoformat(timespec="minutes"))
        while (left := (due - now()).total_seconds()) > 0:
            sleep(min(left, 60.0))
        try:
            result = retrain(sessions, SCHEDULER_NAME, promote=True)
            logger.info(
                "scheduled retraining: version %s %s%s",
                result.version,
                "passed the gate" if result.passed else "refused by the gate: " + "; ".join(result.reasons),
                ", promoted" if result.promoted else "",
            )
        except RetrainRefused as refused:
            logger.warning("scheduled retraining did not run: %s", refused)
        except Exception:
            logger.exception("scheduled retraining failed")
        done += 1


__all__ = ["next_run", "run_forever"]
