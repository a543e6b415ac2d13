"""`make run`'s supervisor: honcho, with a kill timeout that a clean stop of the stack fits in.

honcho 2.0 SIGKILLs whatever still runs 5 s after the first process exits (`KILL_WAIT`, with no
option to change it: nickstenning/honcho#189). A worker drains for `WORKER_DRAIN_TIMEOUT_S` and
the broker outlives its clients (`broker.py`), so here the wait is the broker's stop grace plus
a margin; `manager.loop()` reads `KILL_WAIT` on every pass, so setting it before is enough.

    python -m darkroom.runtime.embedded.supervisor -f Procfile start
"""

from __future__ import annotations

import sys

from honcho import command, manager

from darkroom.runtime.embedded.broker import TANSU_STOP_S, EmbeddedBrokerSettings

KILL_MARGIN_S = 5.0


def kill_timeout_s(settings: EmbeddedBrokerSettings) -> float:
    """Longest clean stop: the broker's grace for its clients, stopping Tansu, and a margin."""
    return settings.stop_grace_s + TANSU_STOP_S + KILL_MARGIN_S


def main(argv: list[str] | None = None) -> None:
    manager.KILL_WAIT = kill_timeout_s(EmbeddedBrokerSettings())
    command.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
