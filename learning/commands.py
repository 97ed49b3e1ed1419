"""``shop learn`` commands of the model registry: retrain, models, promote, rollback, ab, ab-report,
schedule (the review queue's commands are in ``learning.__main__``)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from typing import Optional

from sqlalchemy.orm import sessionmaker

from core.clock import utcnow
from core.settings import get_settings
from learning import registry


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog: keep a report readable."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def _since(text: Optional[str]) -> Optional[dt.datetime]:
    if not text:
        return None
    units = {"d": "days", "h": "hours"}
    if text[-1:] not in units or not text[:-1].isdigit():
        raise SystemExit(f"--since: a number of days or hours, e.g. 14d or 12h (not {text!r})")
    return utcnow() - dt.timedelta(**{units[text[-1]]: int(text[:-1])})


def registry_command(args: argparse.Namespace, sessions: sessionmaker) -> int:
    if args.command == "models":
        with sessions() as session:
            for row in registry.listing(session):
                figures = " ".join(f"{k} {v}" for k, v in row["metrics"].items())
                gate = (
                    ""
                    if row["gate"]["passed"] is None
                    else ("gate passed" if row["gate"]["passed"] else "gate refused")
                )
                share = f" A/B {row['ab_share']:.0%}" if row["ab_share"] else ""
                print(f"{row['version']}\t{row['status']}{share}\t{row['model'] or '-'}\t{gate}\t{figures}")
        return 0
    if args.command == "retrain":
        from learning.retrain import BOT_DIR, RetrainRefused, retrain

        quiet_rasa()
        try:
            result = retrain(
                sessions,
                args.by,
                config=args.config or BOT_DIR / "config.yml",
                promote=args.promote,
                against=args.against,
            )
        except RetrainRefused as refused:
            print(f"shop learn retrain: {refused}", file=sys.stderr)
            return 1
        for name, scores in result.metrics.items():
            theirs = (result.serving.get(name) or {}).get("accuracy")
            print(f"{name} ({scores['examples']}): candidate {scores['accuracy']}  serving {theirs}")
        print(
            json.dumps(
                {
                    "version": result.version,
                    "model": str(result.model),
                    "passed": result.passed,
                    "reasons": result.reasons,
                    "promoted": result.promoted,
                }
            )
        )
        return 0 if result.passed else 1
    if args.command == "schedule":
        from learning.schedule import run_forever

        cron = get_settings().retrain_schedule
        if not cron:
            print("shop learn schedule: set SHOP_RETRAIN_SCHEDULE (a cron line, e.g. '0 3 * * 0')", file=sys.stderr)
            return 2
        quiet_rasa()
        run_forever(cron, sessions)
        return 0
    if args.command == "ab-report":
        from insights.experiments import running_test

        print(json.dumps(running_test(sessions, _since(args.since)), indent=2))
        return 0
    try:
        with sessions.begin() as session:
            if args.command == "promote":
                row = registry.promote(session, args.version, args.by)
                print(f"version {row.id} is in service; every Rasa server swaps within SHOP_MODEL_POLL_SECONDS")
            elif args.command == "rollback":
                row = registry.rollback(session, args.by)
                print(f"version {row.id} is in service again")
            elif args.stop:
                stopped = registry.stop_ab(session, args.by)
                print(f"A/B test of version {stopped.id} stopped" if stopped else "no A/B test was running")
            elif args.version is None:
                print("shop learn ab: a version (or --stop)", file=sys.stderr)
                return 2
            else:
                row = registry.start_ab(session, args.version, args.share, args.by)
                print(f"version {row.id} answers {args.share:.0%} of conversations beside the serving model")
    except registry.RegistryRefused as refused:
        print(f"shop learn {args.command}: {refused}", file=sys.stderr)
        return 1
    return 0


__all__ = ["quiet_rasa", "registry_command"]
