"""`darkroom-dead-letters`: list a job type's dead letters, or send them back. Wiring only.

    darkroom-dead-letters list   [--type image | --webhooks]
    darkroom-dead-letters replay [--type image | --webhooks] [--job ID ...] [--raw] [--dry-run]

`replay` queues each failed job of a letter again (a new series of attempts, `job.requeued`);
`--job` limits it to those jobs; `--raw` also re-publishes letters that are not requests, as they
are, to the topic they came from; `--dry-run` only says what it would do. With `--webhooks`,
the webhook deliveries that gave up (`webhooks.dlq`): `replay` makes each pending again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.jobtypes import WORKER_TYPES, JobType
from darkroom.gateway.dead_letters import read_dead_letters, replay_all
from darkroom.gateway.settings import DeadLetterSettings
from darkroom.gateway.webhooks.redrive import describe, redrive_all, webhook_letter
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.webhooks import WebhookStore
from darkroom.runtime.kafka import make_producer, message_sender, start_producer
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.serving import configure_process


def out(*lines: str) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="darkroom-dead-letters", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument(
        "--type",
        type=JobType,
        default=JobType.IMAGE,
        choices=list(WORKER_TYPES),
        help="whose dead-letter topic: image (default), upscale, variants or video",
    )
    parser.add_argument(
        "--webhooks", action="store_true", help="the webhook deliveries that gave up instead"
    )
    parser.add_argument("--job", type=uuid.UUID, action="append", help="only this job (repeat)")
    parser.add_argument("--raw", action="store_true", help="re-publish non-requests as they are")
    parser.add_argument("--dry-run", action="store_true", help="say what replay would do")
    parser.add_argument("--idle-s", type=float, default=2.0, help="stop reading after this quiet")
    return parser.parse_args(argv)


async def webhooks(settings: DeadLetterSettings, args: argparse.Namespace) -> int:
    topic = settings.topics.webhooks_dlq
    letters = await read_dead_letters(client_options(settings), topic, args.idle_s)
    if args.job:
        wanted = set(args.job)
        letters = [x for x in letters if (w := webhook_letter(x)) and w.job_id in wanted]
    out(f"{len(letters)} dead letter(s) on {topic}")
    if args.command == "list":
        out(*(describe(letter) for letter in letters))
        return 0
    db = open_database(settings)
    try:
        out(*await redrive_all(letters, WebhookStore(db), utcnow(), dry_run=args.dry_run))
    finally:
        await db.dispose()
    return 0


async def main(settings: DeadLetterSettings, args: argparse.Namespace) -> int:
    if args.webhooks:
        return await webhooks(settings, args)
    topic = settings.topics.dead_letters(args.type)
    letters = await read_dead_letters(client_options(settings), topic, args.idle_s)
    if args.job:
        wanted = set(args.job)
        letters = [x for x in letters if x.request is not None and x.request.job_id in wanted]
    out(f"{len(letters)} dead letter(s) on {topic}")
    if args.command == "list":
        out(*(letter.describe() for letter in letters))
        return 0
    db = open_database(settings)
    producer = make_producer(settings, client_id=f"dead-letters-{settings.instance_id}")
    await start_producer(producer)
    try:
        lines = await replay_all(
            letters,
            JobStore(db),
            settings.topics,
            message_sender(producer),
            raw=args.raw,
            dry_run=args.dry_run,
        )
    finally:
        await producer.stop()
        await db.dispose()
    out(*lines)
    return 0


def run() -> None:
    args = parse_args(sys.argv[1:])
    settings = DeadLetterSettings()
    configure_process(settings, "dead-letters")
    sys.exit(asyncio.run(main(settings, args)))
