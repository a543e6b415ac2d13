"""The README's configuration table is the one generated from the settings classes."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "config_table", ROOT / "tools" / "config_table.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_configuration_table_matches_the_settings_classes() -> None:
    tool = load_tool()
    readme = (ROOT / "README.md").read_text()
    assert tool.readme_with_table(readme) == readme, "run `python tools/config_table.py --write`"


def test_every_variable_named_by_the_brief_is_in_the_table() -> None:
    table = load_tool().table()
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "S3_ENDPOINT", "JWT_SECRET"):
        assert f"`{name}`" in table
