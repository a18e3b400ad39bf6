"""Teams, activity and metrics (issue #6), installed together: roles and invites, /log and /undo, the rep's
and the manager's views, charts, exports and privacy. Each concern lives in its own module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.features import activity_log, charts, export, manager_views, privacy, rep_views, teams
from bot.engine.flowdefs import FlowError

if TYPE_CHECKING:
    from bot.engine.core import Engine


def install(engine: Engine) -> None:
    check_flow_metrics(engine)
    teams.install(engine)
    activity_log.install(engine)
    rep_views.install(engine)
    manager_views.install(engine)
    charts.install(engine)
    export.install(engine)
    privacy.install(engine)


def check_flow_metrics(engine: Engine) -> None:
    """Every metric a flow records on completion must be a key of knowledge/metrics.yaml, or its events
    would never show in /week, /team or the reports."""
    catalog = engine.content.metrics
    for flow in engine.content.flows.values():
        for i, action in enumerate(flow.complete.activity):
            if catalog.get(action.metric) is None:
                raise FlowError(f"knowledge/flows/{flow.id}.yaml: complete.activity.{i}.metric: unknown metric "
                                f"{action.metric!r} (keys: {', '.join(catalog.keys)})")
