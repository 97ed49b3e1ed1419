"""``shop learn``: the learning loop from the review queue to the model in service (see the commands below).

shop learn collect                  new low-confidence, fallback, handed-off and badly rated messages
shop learn queue [--limit 20]       what waits for a reviewer
shop learn label ID --intent NAME --reviewer NAME     (or --confirm, --new-request [NAME], --discard)
shop learn export [--out FILE]      labelled messages -> bot/data/nlu/reviewed.yml
shop learn clusters                 unanswered questions grouped by meaning, numbered
shop learn answer N --title T --text X   group N answered by a new FAQ passage (answerable at once)
shop learn gate CANDIDATE SERVING   evaluate two model archives on the held-out sets; pass or refuse
shop learn retrain [--promote]      train a candidate on the bot's data + reviewed examples, gate it, register it
shop learn models                   the model registry: versions, their gate, which one serves
shop learn promote VERSION          put a candidate that passed the gate in service (every Rasa server swaps)
shop learn rollback                 one step back to the model served before
shop learn ab VERSION --share 0.2   A/B test: a candidate answers a share of conversations; `ab --stop` ends it
shop learn ab-report [--since 14d]  the A/B test's models compared, with significance and a winner when sure
shop learn schedule                 retrain on SHOP_RETRAIN_SCHEDULE (cron); `shop start` runs it when set
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="shop learn", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect", help="read the tracker store's new messages into the review queue")
    p.add_argument("--endpoints", type=Path, help="the Rasa servers' endpoints file (its tracker store)")
    p = sub.add_parser("queue", help="the messages waiting for a decision")
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("label", help="one decision on one message")
    p.add_argument("item", type=int)
    p.add_argument("--reviewer", required=True, help="who decides (kept as provenance)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--confirm", action="store_true", help="the bot's reading was right")
    what.add_argument("--intent", help="the right intent of the bot's domain")
    what.add_argument("--new-request", nargs="?", const="", metavar="NAME", help="a request type the bot lacks")
    what.add_argument("--discard", action="store_true")
    sub.add_parser("clusters", help="unanswered questions grouped by meaning")
    p = sub.add_parser("answer", help="answer a group of unanswered questions with a new FAQ passage")
    p.add_argument("cluster", type=int, help="its number in `shop learn clusters`")
    p.add_argument("--title", required=True)
    p.add_argument("--text", required=True, help="the shop's answer, as shoppers will read it")
    p.add_argument("--topic", default="faq")
    p.add_argument("--by", default="cli", help="who wrote it (kept as the passage's source)")
    p = sub.add_parser("gate", help="evaluate a candidate and the model in service; pass or refuse")
    p.add_argument("candidate", type=Path, help="the candidate model archive")
    p.add_argument("serving", type=Path, help="the model in service")
    p.add_argument("--limit", type=int, help="examples per set and stories (a quick look; the gate itself uses all)")
    p = sub.add_parser("export", help="labelled messages as Rasa NLU training data")
    p.add_argument("--out", type=Path, help="default bot/data/nlu/reviewed.yml")
    p = sub.add_parser("retrain", help="train a candidate, evaluate it beside the model in service, gate it")
    p.add_argument("--by", default="cli", help="who asked (kept in the registry)")
    p.add_argument("--config", type=Path, help="default bot/config.yml")
    p.add_argument("--promote", action="store_true", help="put it in service when the gate passes")
    p.add_argument("--against", type=Path, help="model to compare with while the registry has none in service")
    sub.add_parser("models", help="the model registry")
    p = sub.add_parser("promote", help="put a gated candidate in service")
    p.add_argument("version", type=int)
    p.add_argument("--by", default="cli")
    p = sub.add_parser("rollback", help="the model served before serves again")
    p.add_argument("--by", default="cli")
    p = sub.add_parser("ab", help="start or stop an A/B test")
    p.add_argument("version", type=int, nargs="?")
    p.add_argument("--share", type=float, default=0.5, help="share of conversations the candidate answers")
    p.add_argument("--stop", action="store_true")
    p.add_argument("--by", default="cli")
    p = sub.add_parser("ab-report", help="the A/B test's two models compared")
    p.add_argument("--since", default=None, help="e.g. 14d (default: since the test started)")
    sub.add_parser("schedule", help="run retrain on SHOP_RETRAIN_SCHEDULE until stopped")
    args = parser.parse_args(argv)

    from insights.db import migrate_shop_db, shop_sessions

    migrate_shop_db()
    sessions = shop_sessions()
    if args.command == "collect":
        from insights.stream import tracker_store_url
        from learning.collect import TrackerEvents, collect, queue_counts

        url = tracker_store_url(args.endpoints)
        if url is None:
            print("shop learn: the tracker store is not SQL: nothing to read", file=sys.stderr)
            return 2
        result = collect(sessions, TrackerEvents.from_url(url))
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(result.by_source.items())) or "nothing new"
        print(
            f"read {result.events} events: {result.added} messages queued, {result.updated} with a new reason ({reasons})"
        )
        print(f"queue: {queue_counts(sessions)}")
        return 0
    if args.command == "queue":
        from learning.review import pending

        with sessions() as session:
            for item in pending(session, args.limit):
                reading = f"{item.predicted_intent} {item.confidence or 0:.2f}"
                print(f"{item.id}\t{','.join(item.sources or [])}\t{reading}\t{item.text}")
        return 0
    if args.command == "label":
        from learning.review import ReviewRefused, Vocabulary, decide
        from rasa_addons.bot_domain import bot_domain

        action = (
            "confirm"
            if args.confirm
            else "discard"
            if args.discard
            else "new_request"
            if args.new_request is not None
            else "relabel"
        )
        try:
            with sessions.begin() as session:
                item = decide(
                    session,
                    args.item,
                    args.reviewer,
                    action,
                    Vocabulary.of_domain(bot_domain()),
                    intent=args.intent if action == "relabel" else (args.new_request or None),
                )
                print(f"{item.id}: {item.status} {item.intent or ''}")
        except ReviewRefused as refused:
            print(f"shop learn label: {refused}", file=sys.stderr)
            return 1
        return 0
    if args.command == "gate":
        import json

        from learning.commands import quiet_rasa
        from learning.evaluate import evaluate, evaluation_sets, gate

        quiet_rasa()
        sets = evaluation_sets(args.limit)
        candidate = evaluate(args.candidate, sets, max_stories=args.limit)
        same = args.candidate.resolve() == args.serving.resolve()  # one archive named twice: read it once
        results = {
            "candidate": candidate,
            "serving": candidate if same else evaluate(args.serving, sets, max_stories=args.limit),
        }
        for name in sets:
            row = "  ".join(f"{which} {results[which][name]['accuracy']}" for which in results)
            print(f"{name} ({len(sets[name])} examples): {row}")
        decision = gate(results["candidate"], results["serving"])
        for note in decision.notes:
            print(f"let through: {note}")
        print(json.dumps({"passed": decision.passed, "reasons": decision.reasons}))
        return 0 if decision.passed else 1
    if args.command in ("models", "promote", "rollback", "ab", "retrain", "ab-report", "schedule"):
        from learning.commands import registry_command

        return registry_command(args, sessions)
    if args.command in ("clusters", "answer"):
        from core.settings import get_settings
        from learning.clusters import clusters, unanswered
        from retrieval.embeddings import embedder_for

        encoder = embedder_for(get_settings())
        with sessions() as session:
            found = clusters(unanswered(session), encoder.encode)
        if args.command == "answer":
            from learning.answers import AnswerRefused, answer_questions

            if not 1 <= args.cluster <= len(found):
                print(f"shop learn answer: there are {len(found)} groups now (`shop learn clusters`)", file=sys.stderr)
                return 1
            group = found[args.cluster - 1]
            try:
                with sessions.begin() as session:
                    passage = answer_questions(session, group.item_ids, args.title, args.text, args.by, args.topic)
                    print(f"passage {passage.key}: answers {group.size} queued messages like {group.example!r}")
            except AnswerRefused as refused:
                print(f"shop learn answer: {refused}", file=sys.stderr)
                return 1
            return 0
        for number, cluster in enumerate(found, 1):
            print(f"{number}. {cluster.size} x {cluster.example!r}")
            for text in cluster.texts[:5]:
                print(f"    {text}")
        if not found:
            print("no group of unanswered questions yet")
        return 0
    from learning.export import REVIEWED_FILE, export

    out = args.out or REVIEWED_FILE
    with sessions() as session:
        exported = export(session, out)
    print(f"wrote {exported.examples} examples to {out} ({exported.already_known} already in the bot's data)")
    for text, reviewed, bot in exported.conflicts:
        print(f"conflict: {text!r} reviewed as {reviewed}, the bot's data says {bot}: left out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
