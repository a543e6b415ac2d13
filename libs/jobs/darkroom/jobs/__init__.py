"""Darkroom's job core: the rules of a job's life as pure functions, no I/O.

- `records`: typed records (a job as stored, a new job, a message, a plan);
- `transitions`: the transition table, which events a job accepts, what they write;
- `numbering`: the one place a job's events are numbered and their ids made;
- `messages`: the messages plans publish;
- `plans`: submit, cancel, retry, sweep, and what children do to their batch or chain.
Every writer (gateway, projector, sweeper, dead-letter redrive) decides through it; the store
only runs the SQL a plan asks for.
"""
