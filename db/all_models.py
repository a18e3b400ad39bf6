"""Every model module, imported so Alembic and metadata see all tables; add new model modules here."""

from db import models_flows, models_roleplay, models_teams  # noqa: F401
from db.models import Base

__all__ = ["Base"]
