"""Write the JSON Schema of every event, request and API body (`make schemas`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from darkroom.contracts import api, control, events, providers, requests


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every public model and the event union."""
    models: list[type[BaseModel]] = [
        events.JobQueued,
        events.JobStarted,
        events.JobProgress,
        events.JobRetrying,
        events.JobRequeued,
        events.JobCompleted,
        events.JobCompletedWithErrors,
        events.JobFailed,
        events.JobCancelled,
        requests.ImageJobRequested,
        requests.UpscaleJobRequested,
        requests.VariantsJobRequested,
        requests.VideoJobRequested,
        control.CancelRequested,
        control.RunSuperseded,
        api.CreateImageJob,
        api.CreateUpscaleJob,
        api.CreateVideoJob,
        api.CreateBatchJob,
        api.UploadView,
        api.JobAccepted,
        api.JobView,
        api.JobPage,
        api.JobEventList,
        api.CancelAnswer,
        api.StreamToken,
        providers.ModelCatalog,
    ]
    schemas = {f"{m.__name__}.json": m.model_json_schema() for m in models}
    schemas["JobEvent.json"] = TypeAdapter(events.JobEvent).json_schema()
    schemas["ControlMessage.json"] = control.control_adapter.json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    out = Path((argv or sys.argv[1:] or [str(Path(__file__).parent / "schemas")])[0])
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for name, schema in all_schemas().items():
        (out / name).write_text(render(schema))


if __name__ == "__main__":
    main()
