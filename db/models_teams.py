"""Models of the teams feature (tables are created by their Alembic migration in db/migrations/versions)."""

from __future__ import annotations
