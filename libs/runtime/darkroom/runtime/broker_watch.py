"""Every process watches its broker: does it answer, and is it still the log the process runs on?

A broker that lost its log (the embedded broker with memory storage, restarted while the other
processes keep running, as any per-process supervisor does) keeps its address and cluster id;
the clients reconnect by themselves and carry on from positions in a log that is gone, skipping
the new log's first records and committing offsets it never had. The watch notices it by the
broker's incarnation (`darkroom.runtime.incarnation`), creates the topics again with their
configured partitions, and runs the process's reactions (consumers start over from the new
log's beginning, the sweeper re-sends the waiting jobs). Readiness fails while the broker does
not answer and while the process catches up, and comes back on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from darkroom.runtime.incarnation import IncarnationReader, IncarnationUnknown, claim_incarnation
from darkroom.runtime.kafka import ensure_topics
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.admin import partition_counts

logger = logging.getLogger(__name__)

Reaction = Callable[[], Awaitable[None]]
STOP_S = 5.0
REACTION_TIMEOUT_S = 30.0


class LogCheck(Enum):
    """Where records a consumer just fetched come from (`BrokerWatch.log_of_fetch`)."""

    SAME = "same"  # the log this process runs on
    OTHER = "other"  # a new log: drop them
    UNKNOWN = "unknown"  # cannot tell now: read them again later


class BrokerNotReady(Exception):
    """The broker does not answer, or the process is catching up with a new one."""


@dataclass
class WatchState:
    """What the last look found; what readiness answers from."""

    incarnation: uuid.UUID | None = None
    problem: str | None = "not started"
    new_brokers: int = 0  # how many times a new broker was noticed (tests, logs)


@dataclass
class BrokerWatch:
    """Looks at the broker every KAFKA_WATCH_INTERVAL_S; `reactions` run when it is a new one."""

    settings: KafkaSettings
    name: str
    reactions: list[Reaction] = field(default_factory=list)
    state: WatchState = field(default_factory=WatchState)
    _admin: AIOKafkaAdminClient | None = None
    _reader: IncarnationReader | None = None
    _adopted: bool = False  # the incarnation this process runs on is known
    _taking_in: bool = False  # a new broker is being taken in
    _stopping: bool = False  # the loop ends at its next pause
    _closing: set[asyncio.Task[None]] = field(default_factory=set)  # clients being closed
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)  # one read at a time
    _woken: asyncio.Event = field(default_factory=asyncio.Event)  # look now, not at the interval

    def react(self, reaction: Reaction) -> None:
        """Run `reaction` (in order, after the topics exist again) when the broker is new."""
        self.reactions.append(reaction)

    async def start(self) -> None:
        """Adopt the broker's incarnation now (raises if the broker does not answer)."""
        if self._reader is None:
            self._reader = IncarnationReader(self.settings, self._timeout_s)
            try:
                await self._reader.start()
            except BaseException:
                self._reader = None
                raise
        async with self._reading:
            claimed = await claim_incarnation(self.settings, self._reader, self.name)
        self.state.incarnation = claimed
        self.state.problem, self._adopted = None, True
        logger.debug("broker incarnation %s", self.state.incarnation)

    async def check(self) -> None:
        """For /readyz: raise BrokerNotReady saying why, if it is not ready."""
        if self.state.problem is not None:
            raise BrokerNotReady(self.state.problem)

    async def log_of_fetch(self) -> LogCheck:
        """Whether records just fetched come from the log this process runs on, by one read now
        (for a consumer whose order matters: after the broker lost its log, a fetch may come
        from the new log at positions in the old one).

        OTHER: a new log, being or just taken in: drop the records, never rewind to them (the
        take-in moves the consumer to the new log's start). UNKNOWN: the broker cannot tell
        (away, or the watch not started): read the records again later. OTHER wakes the watch.
        """
        generation = self.state.new_brokers

        def moved_on() -> bool:
            return self._taking_in or generation != self.state.new_brokers

        if moved_on():
            return LogCheck.OTHER
        if self.state.problem is not None or self._reader is None:
            return LogCheck.UNKNOWN
        try:
            async with self._reading:
                found = await self._reader.read()
        except Exception as exc:  # cannot tell: the caller reads the records again later
            logger.debug("cannot read the broker's incarnation: %r", exc)
            return LogCheck.OTHER if moved_on() else LogCheck.UNKNOWN
        if moved_on() or found != self.state.incarnation:
            self._woken.set()
            return LogCheck.OTHER
        return LogCheck.SAME

    async def run(self) -> None:
        """Look every interval (or when woken) until `request_stop` (or cancelled)."""
        while not self._stopping:
            if self._adopted:  # a process that could not adopt at once looks again at once
                await self._pause()
                if self._stopping:
                    return
            await self.look()
            if not self._adopted:
                await self._pause()

    def request_stop(self) -> None:
        """End the loop after the look under way: cancelling aiokafka while it connects leaves
        its sockets open."""
        self._stopping = True
        self._woken.set()

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self.settings.kafka_watch_interval_s)
        self._woken.clear()

    async def look(self) -> None:
        """One look: note an unreachable broker, or take in a new one."""
        try:
            if not self._adopted:
                await self.start()
                return
            new = await self._is_new()
        except Exception as exc:  # anything the broker answers (or not) means "not ready"
            if self.state.problem is None:
                logger.warning("the broker does not answer: %r", exc)
            self.state.problem = f"the broker does not answer: {type(exc).__name__}: {exc}"[:200]
            await self._close_admin()
            return
        if new:
            await self._take_in_new_broker()
        elif self.state.problem is not None:
            logger.info("the broker answers again")
            self.state.problem = None

    async def close(self) -> None:
        """Close the clients, waiting for them a bounded time (never hangs)."""
        await self._close_admin()
        if self._reader is not None:
            self._in_background(self._reader.stop())
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=self._timeout_s)

    @property
    def _timeout_s(self) -> float:
        return max(3.0, self.settings.kafka_watch_interval_s)

    async def _is_new(self) -> bool:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(**client_options(self.settings))
            await asyncio.wait_for(self._admin.start(), self._timeout_s)  # closed on failure
        topics = await asyncio.wait_for(self._admin.list_topics(), self._timeout_s)
        if self.settings.topics.incarnation not in topics:
            return True
        assert self._reader is not None
        try:
            async with self._reading:
                found = await self._reader.read()
        except IncarnationUnknown as exc:  # just recreated by another process: look again
            logger.debug("incarnation not readable yet: %s", exc)
            return False
        return found != self.state.incarnation

    async def _take_in_new_broker(self) -> None:
        started = time.monotonic()
        self.state.problem = "catching up with a new broker (it lost its log)"
        self.state.new_brokers += 1
        self._taking_in = True
        logger.warning(
            "the broker lost its log (its incarnation is gone): creating the topics again and "
            "starting over from the new log"
        )
        try:
            await ensure_topics(self.settings, self.settings.topics.all_topics())
            await self._report_partitions()
            assert self._reader is not None
            async with self._reading:
                claimed = await claim_incarnation(self.settings, self._reader, self.name)
            self.state.incarnation = claimed
            for reaction in self.reactions:
                async with asyncio.timeout(REACTION_TIMEOUT_S):  # else tried again next look
                    await reaction()
        except Exception:
            logger.exception("catching up with the new broker failed; trying again")
            self.state.incarnation = None  # the next look takes it in again
            return
        finally:
            self._taking_in = False
        self.state.problem = None
        logger.warning("caught up with the new broker in %.1f s", time.monotonic() - started)

    async def _report_partitions(self) -> None:
        """Warn about a topic the broker created itself, with its own partition count, when a
        client named it before this process could create it (the embedded broker does that)."""
        wanted = self.settings.kafka_partitions
        counts = await partition_counts(self.settings, self.settings.topics.all_topics())
        for name, count in sorted(counts.items()):
            if count != wanted:
                logger.warning(
                    "topic %s came back with %d partitions, not KAFKA_PARTITIONS=%d (the broker "
                    "created it when a client named it first): it works with them; delete it "
                    "while the stack is stopped to get %d",
                    name,
                    count,
                    wanted,
                    wanted,
                )

    async def _close_admin(self) -> None:
        """Close the admin client in the background: a broker that does not answer can hold
        aiokafka's close (and its cancellation) for long."""
        admin, self._admin = self._admin, None
        if admin is not None:
            self._in_background(admin.close())

    def _in_background(self, closing: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def watching(watch: BrokerWatch, adopt_now: bool = True) -> asyncio.Task[None]:
    """Start the watch's loop in the background (cancel the task, then `close()`). `adopt_now`:
    first adopt the broker's incarnation (for processes that cannot start without the broker);
    otherwise the loop adopts it once the broker answers."""
    if adopt_now:
        await watch.start()
    return asyncio.create_task(watch.run(), name="broker-watch")


@dataclass
class Watching:
    """A watch as a process's start and stop hooks."""

    watch: BrokerWatch
    adopt_now: bool = True
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = await watching(self.watch, self.adopt_now)

    async def stop(self) -> None:
        if self._task is not None:
            self.watch.request_stop()
            _, late = await asyncio.wait([self._task], timeout=STOP_S)
            if late:  # a look stuck past its own timeouts
                self._task.cancel()
                await asyncio.wait([self._task], timeout=STOP_S)
        await self.watch.close()
