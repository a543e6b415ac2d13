"""Print, or write into README.md, the table of every environment variable the services read.

python tools/config_table.py            # print the table
python tools/config_table.py --write    # replace the table between the README markers
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from darkroom.gateway.settings import GatewaySettings, ProjectorSettings, RelaySettings
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.image_worker.settings import ImageWorkerSettings
from darkroom.notifier.settings import NotifierSettings
from darkroom.runtime.db.migrate import MigrateSettings
from darkroom.runtime.embedded.broker import EmbeddedBrokerSettings
from darkroom.upscale_worker.settings import UpscaleWorkerSettings
from darkroom.video_worker.settings import VideoWorkerSettings

SERVICES: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "relay": RelaySettings,
    "projector": ProjectorSettings,
    "webhooks": WebhookSettings,
    "image-worker": ImageWorkerSettings,
    "upscale-worker": UpscaleWorkerSettings,
    "video-worker": VideoWorkerSettings,
    "notifier": NotifierSettings,
    "broker": EmbeddedBrokerSettings,
    "migrate": MigrateSettings,
}
README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def _default(field: Any) -> str:
    if field.default_factory is not None:
        if field.default_factory.__name__ == "_default_instance_id":
            return "host-pid"
        made = field.default_factory()
        return f"`{json.dumps(made, default=lambda m: m.model_dump(exclude_none=True))}`"
    value = field.default
    if isinstance(value, SecretStr):
        return "dev secret (refused when `DARKROOM_ENV=prod`)"
    return "(none)" if value is None else f"`{value}`"


def table() -> str:
    rows: dict[str, list[Any]] = {}
    for service, cls in SERVICES.items():
        for name, field in cls.model_fields.items():
            row = rows.setdefault(name.upper(), [_default(field), [], field.description or ""])
            row[1].append(service)
    lines = ["| Variable | Default | Read by | Meaning |", "|---|---|---|---|"]
    for env in sorted(rows):
        default, users, meaning = rows[env]
        readers = "all" if len(users) >= len(SERVICES) - 1 else ", ".join(users)
        lines.append(f"| `{env}` | {default} | {readers} | {meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def readme_with_table(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv:
        README.write_text(readme_with_table(README.read_text()))
    else:
        sys.stdout.write(table())
