"""The programs the gateway service ships, one module each (its `run()` is the console script):

- `api`: `darkroom-gateway`, the HTTP API (jobs in, status, lists) and the sweeper;
- `relay`: `darkroom-relay`, the outbox relay (database -> Kafka);
- `projector`: `darkroom-projector`, jobs.events -> job table, and batch/chain parents;
- `dead_letters`: `darkroom-dead-letters`, the operators' dead-letter command.
Each only wires; the logic lives in the modules beside this folder and in `darkroom.jobs`.
"""
