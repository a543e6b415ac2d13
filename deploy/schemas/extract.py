"""Write the schemas of CRDs as the repo keeps them: `python deploy/schemas/extract.py CRD.yaml…`.

For each served version of each CustomResourceDefinition, its `openAPIV3Schema` goes to
`deploy/schemas/<group>/<kind>-<version>.json`, exactly as published except for the `description`
texts (most of the bytes). tests/unit/deploy turns them into JSON Schema (`nullable`,
`x-kubernetes-*`) when it validates the rendered manifests. README.md says where they came from.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
MAPS_OF_SCHEMAS = ("properties", "patternProperties", "definitions")


def without_descriptions(schema: Any) -> Any:
    """The schema without its `description` keywords (a property named description stays)."""
    if isinstance(schema, list):
        return [without_descriptions(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in MAPS_OF_SCHEMAS and isinstance(value, dict):
            kept[key] = {name: without_descriptions(sub) for name, sub in value.items()}
        else:
            kept[key] = without_descriptions(value)
    return kept


def extract(crd_file: Path) -> list[Path]:
    written = []
    for crd in yaml.safe_load_all(crd_file.read_text()):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            schema = without_descriptions(version["schema"]["openAPIV3Schema"])
            target = HERE / group / f"{kind.lower()}-{version['name']}.json"
            target.parent.mkdir(exist_ok=True)
            target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
            written.append(target)
    return written


if __name__ == "__main__":
    for name in sys.argv[1:]:
        for path in extract(Path(name)):
            print(path.relative_to(HERE))  # noqa: T201 - a command line tool
