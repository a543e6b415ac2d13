"""Fixtures shared by every test level."""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.db",
    "tests.fixtures.s3",
    "tests.fixtures.tls",
    "tests.fixtures.fake_openai",
    "tests.fixtures.fake_bfl",
    "tests.fixtures.fake_replicate",
    "tests.fixtures.fake_google",
    "tests.fixtures.fake_fal",
    "tests.fixtures.fake_runpod",
    "tests.fixtures.fake_runway",
    "tests.fixtures.webhook_receiver",
]
