"""The committed JSON Schemas are what the models generate today."""

from pathlib import Path

import darkroom.contracts
from darkroom.contracts.schema_export import all_schemas, render

SCHEMAS = Path(darkroom.contracts.__file__).parent / "schemas"
FIX = "the JSON Schemas in {} are stale: run `make schemas` and commit the result"


def test_schema_files_are_exactly_the_generated_ones() -> None:
    committed = {p.name for p in SCHEMAS.glob("*.json")}
    generated = set(all_schemas())

    assert committed == generated, (
        FIX.format(SCHEMAS)
        + f" (missing: {sorted(generated - committed)}, extra: {sorted(committed - generated)})"
    )


def test_schema_files_match_the_models() -> None:
    stale = [
        name
        for name, schema in all_schemas().items()
        if not (SCHEMAS / name).is_file() or (SCHEMAS / name).read_text() != render(schema)
    ]

    assert not stale, FIX.format(SCHEMAS) + f" (differ: {stale})"
