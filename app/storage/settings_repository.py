"""Small app settings stored as JSON by key."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.storage.schema import SettingRow


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(SettingRow, key)
    return default if row is None else json.loads(row.value)


def put_setting(session: Session, key: str, value: Any) -> None:
    text = json.dumps(value, sort_keys=True)
    row = session.get(SettingRow, key)
    if row is None:
        session.add(SettingRow(key=key, value=text))
    else:
        row.value = text
