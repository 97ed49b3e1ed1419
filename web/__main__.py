"""Command line of the agent console: ``python -m web create-agent NAME [--skills orders,returns]
[--capacity 3] [--supervisor | --admin]``, ``set-routing``, ``set-password``, ``list-agents``.

Passwords are read from a prompt (twice) or, for scripts, from stdin with
``--password-stdin``; never from the command line, where ``ps`` and shell
history would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from core.settings import get_settings
from handoff.store import HandoffStore, StoreError
from shopdb.models import AgentRole, Skill


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise StoreError("the passwords differ")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="Manage agent-console accounts.")
    parser.add_argument("--database-url", help="default: SHOP_DATABASE_URL or var/shop.db")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-agent", help="create a support agent who can log into the console")
    create.add_argument("name", help="login name (letters, digits, '.', '_', '-')")
    create.add_argument("--display-name", help="name shown to shoppers (default: the login name)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--admin", action="store_true", help="may also open analytics and data-rights endpoints")
    create.add_argument("--supervisor", action="store_true", help="sees every queue and every agent's load")
    create.add_argument("--reviewer", action="store_true", help="labels the learning loop's review queue")
    create.add_argument(
        "--skills", default=",".join(Skill.ALL), help=f"comma-separated, of {', '.join(Skill.ALL)} (default: all)"
    )
    create.add_argument("--capacity", type=int, default=3, help="conversations at once (0: never routed to; default 3)")
    routing = commands.add_parser("set-routing", help="change an agent's skills and capacity")
    routing.add_argument("name")
    routing.add_argument("--skills", help=f"comma-separated, of {', '.join(Skill.ALL)}")
    routing.add_argument("--capacity", type=int, help="conversations at once (0: never routed to)")
    password = commands.add_parser("set-password", help="change an agent's password")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    commands.add_parser("list-agents", help="list agent accounts")
    args = parser.parse_args(argv)

    from shopdb.db import migrate

    url = args.database_url or get_settings().resolved_database_url
    migrate(url, "heads")  # idempotent; "heads": sibling revisions (web, insights) may both be heads
    store = HandoffStore.from_url(url)
    try:
        if args.command == "create-agent":
            role = AgentRole.ADMIN if args.admin else AgentRole.SUPERVISOR if args.supervisor else AgentRole.AGENT
            agent = store.create_agent(
                args.name,
                _password(args.password_stdin),
                args.display_name,
                role,
                skills=args.skills.split(","),
                capacity=args.capacity,
                can_review=args.reviewer,
            )
            print(
                f"created {agent.role} {agent.username!r} ({agent.display_name}), id {agent.id}: "
                f"{', '.join(agent.skills)}, {agent.capacity} at once"
            )
        elif args.command == "set-routing":
            skills = args.skills.split(",") if args.skills is not None else None
            agent = store.set_routing(args.name, skills, args.capacity)
            print(f"{agent.username!r}: {', '.join(agent.skills)}, {agent.capacity} at once")
        elif args.command == "set-password":
            store.set_password(args.name, _password(args.password_stdin))
            print(f"password of {args.name!r} changed")
        else:
            for agent in store.list_agents():
                print(
                    f"{agent.id}\t{agent.username}\t{agent.role}\t{agent.display_name}\t"
                    f"{','.join(agent.skills)}\t{agent.capacity}"
                )
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
