"""Images users uploaded, usable as inputs of their jobs."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.tables import uploads


@dataclass(frozen=True)
class UploadRecord:
    """An image a user uploaded, usable as an input of their jobs."""

    asset_id: uuid.UUID
    user_id: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int
    sha256: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> UploadRecord:
        values = dict(row._mapping)
        values["asset_id"] = uuid.UUID(values["asset_id"])
        return cls(**values)


class UploadStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, upload: UploadRecord) -> None:
        row = {**asdict(upload), "asset_id": str(upload.asset_id)}
        async with self.db.write() as conn:
            await conn.execute(insert(uploads), [row])

    async def get(self, asset_id: uuid.UUID) -> UploadRecord | None:
        query = select(uploads).where(uploads.c.asset_id == str(asset_id))
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return UploadRecord.from_row(row) if row else None
