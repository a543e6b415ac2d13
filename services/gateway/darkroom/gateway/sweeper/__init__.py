"""The sweeper: no accepted job waits forever, whatever the broker lost; none runs twice.

It runs in the gateway process (one replica at a time, by a database lease), in its own module
with its own settings: `loop` (the passes), `backlog` (which requests still wait in Kafka),
`settings`. What a sweep writes is the job core's decision (`darkroom.jobs.plans.sweep`).
"""
