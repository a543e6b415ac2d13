"""Fixtures shared by every test level."""

pytest_plugins = ["tests.fixtures.s3"]
