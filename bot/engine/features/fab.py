"""/fab — the FAB builder: the `fab_benefit` checker and the tip after saving.

The flow itself is data (knowledge/flows/fab.yaml); what needs code is judging the benefit, because
the commonest FAB mistake is a "benefit" that is product praise ("性能强") rather than what the
customer gains ("您每月少停机半天").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.engine.events import Lang, OutboundMessage
from bot.engine.features.cues import Cues, load_cues
from bot.engine.flowdefs import Flow, Step
from bot.engine.i18n import Messages
from bot.text.normalize import fold, has_cjk
from db.store import DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

FLOW = "fab"
_NUMBER = re.compile(r"\d|[一二三四五六七八九十两半]+(?:天|小时|分钟|周|个月|年|倍|成|万|元|台|次|人)")


@dataclass(frozen=True)
class BenefitCheck:
    customer: bool  # speaks of the customer (您 / you)
    concrete: bool  # names a concrete gain (time, money, risk, quality, a number)
    weak: tuple[str, ...]  # empty praise found ("很好", "best")
    about_product: bool  # the product (or we) is the subject, the customer is absent
    number: bool

    @property
    def good(self) -> bool:
        return self.customer and self.concrete


def assess_benefit(text: str, cues: Cues) -> BenefitCheck:
    lang: Lang = "zh" if has_cjk(text) else "en"
    customer = cues.has(lang, "customer", text)
    concrete = cues.has_folded(lang, "gain", cues.strip(lang, "weak", text))
    return BenefitCheck(
        customer=customer,
        concrete=concrete,
        weak=tuple(cues.matches(lang, "weak", text)),
        about_product=not customer and cues.has(lang, "product", text),
        number=_NUMBER.search(fold(text)) is not None,
    )


def benefit_notes(t: Messages, lang: str, check: BenefitCheck) -> list[str]:
    """Coaching on the benefit: what is missing, or a nudge towards a number when it is good."""
    notes: list[str] = []
    if check.about_product:
        notes.append(t(lang, "fab_note_not_customer"))
    elif not check.customer:
        notes.append(t(lang, "fab_note_no_customer"))
    if not check.concrete:
        sep = "、" if lang == "zh" else ", "
        notes.append(t(lang, "fab_note_weak", words=sep.join(check.weak)) if check.weak
                     else t(lang, "fab_note_vague"))
    if notes:
        notes.append(t(lang, "fab_note_revise"))
        return ["\n".join(notes)]
    good = t(lang, "fab_note_good")
    return [good if check.number else good + "\n" + t(lang, "fab_note_number")]


def tip_key(check: BenefitCheck) -> str:
    if not check.customer:
        return "fab_tip_customer"
    if not check.concrete:
        return "fab_tip_concrete"
    return "fab_tip_use"


def install(engine: Engine) -> None:
    cues = load_cues()
    t = engine.t

    def check(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        text = str(value or "").strip()
        return benefit_notes(t, lang, assess_benefit(text, cues)) if text else []

    async def completed(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        benefit = str(dialog.slots.get("benefit") or "")
        return [OutboundMessage(t(turn.lang, tip_key(assess_benefit(benefit, cues))))]

    engine.add_checker("fab_benefit", check)
    engine.on_complete(FLOW, completed)
