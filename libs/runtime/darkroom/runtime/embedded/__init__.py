"""The embedded stack: a local Tansu broker and the start-up banner of `make run`."""
