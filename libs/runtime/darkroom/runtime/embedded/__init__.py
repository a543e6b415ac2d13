"""The embedded stack: a local Tansu broker, the start-up banner of `make run` and its supervisor."""
