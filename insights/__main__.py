"""``python -m insights`` (``shop insights``): consume the event stream, report, export/delete a shopper, carry
out the account deletions shoppers asked for in the chat, purge.

The event-to-profile latency is a benchmark: ``shop bench events``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

from insights.report import format_report


def _consume(args: argparse.Namespace) -> int:
    from core.settings import get_settings
    from insights.consumer import consumer_for
    from insights.db import migrate_shop_db, shop_sessions
    from insights.stream import read_broker_config

    settings = get_settings()
    config = read_broker_config(args.endpoints)
    if config is None:
        print(f"no event_broker in {args.endpoints or settings.endpoints}", file=sys.stderr)
        return 2
    migrate_shop_db()
    sessions = shop_sessions()
    consumer = consumer_for(config, sessions)
    if args.once:
        result = consumer.consume_once()
        print(f"consumed: {result}")
        return 0
    from monitoring import metrics
    from monitoring.health import sql_reachable
    from monitoring.operations_server import serve_operations

    metrics.expose(metrics.INSIGHTS)
    checks = {"shop_database": sql_reachable(sessions.kw["bind"]), **consumer.readiness_checks()}
    serve_operations(args.host, args.port if args.port is not None else settings.insights_port, checks)
    print(f"consuming the {config.type} event broker (Ctrl+C to stop)", flush=True)
    if config.is_sql:
        consumer.run(poll_seconds=args.poll or settings.consumer_poll_seconds)
    else:
        consumer.run()
    return 0


def _report(args: argparse.Namespace) -> int:
    from insights.analytics import Analytics, write_csv
    from insights.api import _parse_time
    from insights.db import shop_sessions

    try:
        since, until = _parse_time(args.since), _parse_time(args.until)
    except ValueError as error:
        print(f"bad --since/--until: {error}", file=sys.stderr)
        return 2
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        report = Analytics(shop_sessions(), since, until).overview(bucket=args.bucket, top=args.top)
    except (OperationalError, ProgrammingError) as error:
        print(
            f"cannot read the analytics tables ({error.orig}); run `python -m insights migrate` "
            "and `python -m insights consume`",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print(format_report(report))
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as stream:
            write_csv(report.rows(), stream)
        print(f"\nCSV written to {args.csv}")
    return 0


def _subject(args: argparse.Namespace) -> dict:
    return {"customer_id": args.customer, "sender_id": args.sender}


def _export(args: argparse.Namespace) -> int:
    from insights.operations import export_shopper

    data = json.dumps(export_shopper(**_subject(args)), indent=2, default=str)
    if args.out:
        Path(args.out).write_text(data, encoding="utf-8")
        print(f"exported to {args.out}")
    else:
        print(data)
    return 0


def _delete(args: argparse.Namespace) -> int:
    from insights.operations import delete_shopper

    if not args.yes:
        who = f"customer {args.customer}" if args.customer else f"conversation {args.sender}"
        if input(f"Erase every record of {who}? Type 'yes': ").strip().lower() != "yes":
            print("nothing deleted")
            return 1
    counts = delete_shopper(**_subject(args))
    print("deleted: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _requests(args: argparse.Namespace) -> int:
    from core.clock import utcnow
    from insights.db import shop_sessions
    from insights.erasure_requests import pending_requests
    from insights.operations import carry_out_erasure_requests

    pending = pending_requests(shop_sessions())
    now = utcnow()
    for request in pending:
        late = "  OVERDUE" if request.due_at < now else ""
        print(
            f"request {request.id}: erase customer {request.customer_id}, asked {request.created_at:%Y-%m-%d}, "
            f"due {request.due_at:%Y-%m-%d}{late}"
        )
    print(f"{len(pending)} pending account deletion(s)")
    if not args.carry_out or not pending:
        return 0
    if not args.yes and input(f"Erase every record of {len(pending)} customer(s)? Type 'yes': ").strip() != "yes":
        print("nothing deleted")
        return 1
    for request in carry_out_erasure_requests():
        print(f"request {request.id} done: deleted " + ", ".join(f"{k} {v}" for k, v in request.result.items()))
    return 0


def _purge(args: argparse.Namespace) -> int:
    from insights.operations import purge_expired

    counts = purge_expired(args.days)
    print("purged: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from insights.db import migrate_shop_db

    migrate_shop_db()
    print("shop database at every alembic head")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m insights", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("consume", help="update profiles from the event broker of bot/endpoints.yml")
    p.add_argument(
        "--endpoints",
        type=Path,
        help="endpoints file (default bot/endpoints.yml; scale-out: bot/endpoints.scaleout.yml)",
    )
    p.add_argument("--once", action="store_true", help="apply what is there now and exit")
    p.add_argument("--host", default="127.0.0.1", help="where /metrics and /health listen (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="their port (default SHOP_INSIGHTS_PORT, 5057)")
    p.add_argument(
        "--poll", type=float, help="SQL broker polling interval in seconds (default SHOP_CONSUMER_POLL_SECONDS)"
    )
    p.set_defaults(func=_consume)

    p = sub.add_parser("report", help="analytics report (intents, fallback, hand-off, containment, conversion)")
    p.add_argument("--since", help="ISO date/time or relative (7d, 24h)")
    p.add_argument("--until", help="ISO date/time or relative")
    p.add_argument("--bucket", choices=("day", "hour"), default="day")
    p.add_argument("--top", type=int, default=10, help="how many unanswered questions")
    p.add_argument("--csv", help="also write the report as CSV to this file")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_report)

    for name, func, helptext in (
        ("export", _export, "everything stored about a shopper, as JSON"),
        ("delete", _delete, "erase a shopper's data (profiles, facts, raw events, tracker)"),
    ):
        p = sub.add_parser(name, help=helptext)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--customer", help="shop customer id")
        who.add_argument("--sender", help="conversation (Rasa sender) id")
        if name == "export":
            p.add_argument("--out", help="write to this file instead of stdout")
        else:
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.set_defaults(func=func)

    p = sub.add_parser("requests", help="account deletions shoppers asked for in the chat (pending ones)")
    p.add_argument("--carry-out", action="store_true", help="erase each one's data (like `delete`) and mark it done")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=_requests)

    p = sub.add_parser("purge", help="delete data older than the retention period")
    p.add_argument("--days", type=int, help="retention in days (default SHOP_RETENTION_DAYS or 180)")
    p.set_defaults(func=_purge)

    p = sub.add_parser("migrate", help="create/upgrade the insights tables (alembic upgrade heads)")
    p.set_defaults(func=_migrate)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from monitoring.json_logs import install_server_logging

    install_server_logging()  # personal data masked; JSON lines with SHOP_LOG_FORMAT=json
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
