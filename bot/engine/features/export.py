"""/export [week|month|2026-W47|2026-11]: the team's XLSX workbook with the standard forms of seed 004.

Sheets: customer information record (表一 客户信息记录表), follow-up record (表二 客户跟进记录表),
weekly/monthly new-customer summary (表三 周/月新增客户信息汇总表), weekly/monthly visit plan (表四
月/周度市场拜访计划表), quasi-customer list (表六 准客户申报表), and the metrics table per rep. The key
person sheet (表五 客户关键人个人信息表) is left out on purpose: it holds private data about customers'
staff (compliance.personal_data).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.engine.events import Attachment, Button, OutboundMessage
from bot.engine.features.teamkit import (
    Managed,
    display_name,
    metrics_repo,
    orphan_cut,
    parse_period,
    prorated,
    resolve_team,
    teams_repo,
)
from bot.engine.periods import Period
from bot.reports.workbook import Sheet, build_xlsx
from db.store import DialogState
from db.store_metrics import CustomerHealth, CustomerRow, RecordRow

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

EXPORT_PREFIX = "ex"
MAX_DETAIL = 500


class Export:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.catalog = engine.content.metrics

    async def export(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "export")
        if not isinstance(managed, Managed):
            return managed
        period = parse_period(turn.event.args, managed.team.timezone, turn.now)
        if period is None:
            return [OutboundMessage(self.t(lang, "export_usage"), buttons=[[
                Button(self.t(lang, "export_week_button"), f"{EXPORT_PREFIX}:week"),
                Button(self.t(lang, "export_month_button"), f"{EXPORT_PREFIX}:month")]])]
        return [await self._export(turn, managed, period)]

    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        if rest not in ("week", "month"):
            return None
        managed = await resolve_team(self.engine, turn, "export")
        if not isinstance(managed, Managed):
            return managed
        period = parse_period(rest, managed.team.timezone, turn.now)
        return [await self._export(turn, managed, period)] if period else None

    async def _export(self, turn: Turn, managed: Managed, period: Period) -> OutboundMessage:
        lang, team = turn.lang, managed.team
        zone = ZoneInfo(team.timezone)
        repo = metrics_repo(turn)
        owners = repo.team_owners(team.id)
        customers = await repo.customers(owners)
        cut = orphan_cut(turn.now, self.catalog)
        following = period.shift(1)
        sheets = [
            self._customer_sheet(lang, customers, cut, zone),
            await self._follow_up_sheet(turn, owners, period, zone),
            self._new_customer_sheet(lang, customers, period, zone),
            await self._plan_sheet(turn, customers, period, following, zone),
            self._quasi_sheet(lang, customers, zone),
            await self._metrics_sheet(turn, managed, period),
        ]
        note = self.t(lang, "xlsx_note", team=team.name, label=period.label,
                      first=period.first_day.isoformat(), last=period.last_day.isoformat(),
                      made=turn.now.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
        for sheet in sheets:
            sheet.note = note
        data = await asyncio.to_thread(build_xlsx, sheets)
        filename = f"salescoach_{period.label}.xlsx"
        caption = self.t(lang, "export_done", team=team.name, label=period.label, customers=len(customers))
        return OutboundMessage(caption, attachment=Attachment("document", filename, data))

    # ----- sheets -----------------------------------------------------------------------------
    def _headers(self, lang: str, key: str) -> list[str]:
        return [h.strip() for h in self.t(lang, key).split("|")]

    def _stage(self, lang: str, stage: str) -> str:
        key = f"tm_stage_{stage}"
        return self.t(lang, key) if self.engine.content.messages.has(key) else stage

    @staticmethod
    def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    def _customer_sheet(self, lang: str, customers: list[CustomerRow], cut: datetime, zone: ZoneInfo) -> Sheet:
        yes, no = self.t(lang, "answer_yes"), self.t(lang, "answer_no")
        rows = [[i, c.owner_name, c.name, c.contact, self._stage(lang, c.stage), c.relationship, c.value_tier,
                 c.attitude, self._local(c.created_at, zone), self._local(c.last_contact, zone),
                 self._local(c.next_visit_at, zone),
                 yes if c.created_at < cut and (c.last_contact is None or c.last_contact < cut) else no]
                for i, c in enumerate(customers, 1)]
        return Sheet(self.t(lang, "xlsx_customers_title"), self._headers(lang, "xlsx_customers_cols"), rows)

    async def _follow_up_sheet(self, turn: Turn, owners: Any, period: Period, zone: ZoneInfo) -> Sheet:
        lang = turn.lang
        repo = metrics_repo(turn)
        entries: list[tuple[datetime, list[Any]]] = []
        for contact in await repo.contacts(owners, period.start, period.end):
            metric = self.catalog.get(contact.kind)
            entries.append((contact.occurred_at, [
                self._local(contact.occurred_at, zone), contact.owner_name, contact.customer,
                metric.label(lang) if metric else contact.kind, contact.amount, "",
                self.t(lang, f"xlsx_source_{contact.source}") if self.engine.content.messages.has(
                    f"xlsx_source_{contact.source}") else contact.source]))
        for record in await repo.records(owners, period.start, period.end):
            entries.append((record.created_at, [
                self._local(record.created_at, zone), record.owner_name, record.customer,
                self._record_kind(lang, record), None, self._summary(record), self.t(lang, "xlsx_source_flow")]))
        entries.sort(key=lambda e: e[0])
        return Sheet(self.t(lang, "xlsx_followups_title"), self._headers(lang, "xlsx_followups_cols"),
                     [row for _at, row in entries])

    def _record_kind(self, lang: str, record: RecordRow) -> str:
        flow = self.engine.content.flows.get(str(record.data.get("flow", "")))
        return flow.title.get(lang) if flow else record.kind

    @staticmethod
    def _summary(record: RecordRow) -> str:
        answers = record.data.get("answers", record.data)
        parts = []
        if isinstance(answers, dict):
            for key, value in answers.items():
                if str(key).startswith("_") or value in (None, "", [], {}):
                    continue
                if isinstance(value, dict):
                    value = value.get("name", "")
                elif isinstance(value, list):
                    value = "、".join(str(v) for v in value)
                parts.append(f"{key}: {value}")
        return "; ".join(parts)[:MAX_DETAIL]

    def _new_customer_sheet(self, lang: str, customers: list[CustomerRow], period: Period, zone: ZoneInfo) -> Sheet:
        new = sorted((c for c in customers if period.contains(c.created_at)), key=lambda c: c.created_at)
        rows = [[i, self._local(c.created_at, zone), c.owner_name, c.name, c.contact, self._stage(lang, c.stage),
                 c.relationship, c.value_tier] for i, c in enumerate(new, 1)]
        return Sheet(self.t(lang, "xlsx_new_title", kind=period.kind), self._headers(lang, "xlsx_new_cols"), rows)

    async def _plan_sheet(self, turn: Turn, customers: list[CustomerRow], period: Period, following: Period,
                          zone: ZoneInfo) -> Sheet:
        lang = turn.lang
        planned = sorted((c for c in customers if c.next_visit_at and period.start <= c.next_visit_at < following.end),
                         key=lambda c: c.next_visit_at or c.created_at)
        plans = await metrics_repo(turn).latest_records([c.id for c in planned], "prep")
        rows = []
        for i, c in enumerate(planned, 1):
            when = self._local(c.next_visit_at, zone)
            answers = plans.get(c.id, {}).get("answers", {})
            purpose = answers.get("objective", "") if isinstance(answers, dict) else ""
            status = self.t(lang, "xlsx_plan_done" if c.next_visit_at and c.next_visit_at < turn.now
                            else "xlsx_plan_open")
            rows.append([i, when, self.t(lang, f"tm_weekday_{when.weekday()}") if when else "", c.owner_name, c.name,
                         c.contact, self._stage(lang, c.stage), str(purpose or ""), status])
        return Sheet(self.t(lang, "xlsx_plan_title", kind=period.kind), self._headers(lang, "xlsx_plan_cols"), rows)

    def _quasi_sheet(self, lang: str, customers: list[CustomerRow], zone: ZoneInfo) -> Sheet:
        quasi = [c for c in customers if c.stage == "quasi"]
        rows = [[i, c.owner_name, c.name, c.contact, c.relationship, c.value_tier,
                 self._local(c.last_contact, zone), self._local(c.next_visit_at, zone)]
                for i, c in enumerate(quasi, 1)]
        return Sheet(self.t(lang, "xlsx_quasi_title"), self._headers(lang, "xlsx_quasi_cols"), rows)

    async def _metrics_sheet(self, turn: Turn, managed: Managed, period: Period) -> Sheet:
        lang, team = turn.lang, managed.team
        repo = metrics_repo(turn)
        members = await teams_repo(turn).members(team.id, ("rep", "anonymous"))
        sums = await repo.team_sums(team.id, period.start, period.end)
        health = await repo.team_health(team.id, period.start, period.end, orphan_cut(turn.now, self.catalog))
        targets = await teams_repo(turn).targets(team.id)
        keys = self.catalog.keys
        headers = [self.t(lang, "xlsx_metrics_rep"), *(self.catalog[k].label(lang) for k in keys),
                   *self._headers(lang, "xlsx_metrics_extra")]
        rows: list[list[Any]] = []
        totals = dict.fromkeys(keys, 0)
        for member in members:
            values = sums.get(member.user_id, {})
            if member.anonymous and not values:
                continue
            h = health.get(member.user_id, CustomerHealth())
            for k in keys:
                totals[k] += values.get(k, 0)
            met = sum(1 for k, target in targets.items() if values.get(k, 0) >= prorated(target, period))
            rows.append([display_name(self.engine, lang, member), *(values.get(k, 0) for k in keys),
                         h.total, round(100 * h.coverage) if h.coverage is not None else None, h.orphans,
                         f"{met}/{len(targets)}" if targets else ""])
        rows.append([self.t(lang, "xlsx_metrics_total"), *(totals[k] for k in keys), None, None, None, ""])
        if targets:
            rows.append([self.t(lang, "xlsx_metrics_target", kind=period.kind),
                         *(prorated(targets[k], period) if k in targets else None for k in keys), None, None, None,
                         ""])
        return Sheet(self.t(lang, "xlsx_metrics_title", kind=period.kind), headers, rows)


def install(engine: Engine) -> Export:
    feature = Export(engine)
    engine.add_command("export", feature.export)
    engine.add_button(EXPORT_PREFIX, feature.button)
    return feature
