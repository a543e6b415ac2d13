"""`darkroom-topics`: create or update every topic of the stack, as the contracts describe them
with this deployment's KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS.

    darkroom-topics            # create what is missing, set configs that differ, add partitions
    darkroom-topics --dry-run  # say what it would do, change nothing

Idempotent: a second run has nothing to do. Partitions only grow; replication is left to the
operator (both are reported). Exits 1, saying why, when the broker refuses or does not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from aiokafka.errors import KafkaError

from darkroom.runtime.secret_files import read_settings
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.admin import admin_client, apply_plan, read_topics
from darkroom.runtime.topics.desired import desired_topics
from darkroom.runtime.topics.plan import plan_topics

Out = Callable[[str], None]


def out(line: str) -> None:
    sys.stdout.write(f"{line}\n")


async def sync_topics(settings: KafkaSettings, dry_run: bool, say: Out = out) -> int:
    """Make the broker's topics as wanted (or say what that takes); the process's exit code."""
    wanted = desired_topics(settings)
    try:
        async with admin_client(settings) as admin:
            plan = plan_topics(wanted, await read_topics(admin, wanted))
            for line in plan.describe() or [f"all {len(wanted)} topics are as wanted"]:
                say(line)
            if not dry_run and plan.changes:
                await apply_plan(admin, plan)
                say(f"done: {plan.changes} change(s)")
    except (KafkaError, OSError) as exc:
        reason = str(exc) if isinstance(exc, KafkaError) else repr(exc)  # KafkaError names itself
        say(f"failed ({settings.kafka_bootstrap_servers}): {reason}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="darkroom-topics", description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what it would do only")
    args = parser.parse_args(argv)
    settings = read_settings(KafkaSettings)  # KAFKA_SASL_PASSWORD may be a secret file
    assert isinstance(settings, KafkaSettings)
    sys.exit(asyncio.run(sync_topics(settings, args.dry_run)))
