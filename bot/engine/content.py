"""Everything the engine reads from disk, loaded and validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.engine.classifier import ClassifierConfigError, load_lexicon
from bot.engine.features.cues import CuesError, load_cues
from bot.engine.flowdefs import Flow, FlowError, load_flows
from bot.engine.i18n import Messages, MessagesError
from bot.engine.metrics import MetricCatalog, MetricsError, load_metrics
from bot.engine.roleplay.loader import RoleplayContent, load_roleplay
from bot.kb.loader import KnowledgeError, load_knowledge
from bot.kb.models import KnowledgeBase
from bot.kb.search import KnowledgeIndex
from bot.kb.talk import TalkRenderer

# What a trainer's mistake in knowledge/ or scripts_talk/ raises while the content loads; each names the
# file and the field. The bot refuses to start with it, `salescoach kb check` reports it.
CONTENT_ERRORS: tuple[type[Exception], ...] = (
    KnowledgeError, FlowError, MessagesError, CuesError, ClassifierConfigError)


@dataclass(frozen=True)
class Content:
    kb: KnowledgeBase
    index: KnowledgeIndex
    talk: TalkRenderer
    flows: dict[str, Flow]
    messages: Messages
    metrics: MetricCatalog
    roleplay: RoleplayContent  # personas and the scorecard rubric

    @classmethod
    def load(cls, knowledge_dir: Path, talk_dir: Path) -> Content:
        kb = load_knowledge(knowledge_dir, talk_dir)
        talk = TalkRenderer(talk_dir)
        flows = load_flows(knowledge_dir / "flows")
        for flow in flows.values():
            if flow.complete.card not in talk.names():
                raise FlowError(f"{knowledge_dir / 'flows' / (flow.id + '.yaml')}: complete.card: "
                                f"no template {flow.complete.card} in scripts_talk")
            for step in flow.steps:
                if step.tip is not None and kb.get(step.tip) is None:
                    raise FlowError(f"{knowledge_dir / 'flows' / (flow.id + '.yaml')}: steps.{step.id}.tip: "
                                    f"unknown knowledge id {step.tip}")
                if step.say is not None and step.say not in talk.names():
                    raise FlowError(f"{knowledge_dir / 'flows' / (flow.id + '.yaml')}: steps.{step.id}.say: "
                                    f"no template {step.say} in scripts_talk")
        metrics = load_metrics(knowledge_dir / "metrics.yaml")
        for field, kid in metrics.knowledge_ids():
            if kb.get(kid) is None:
                raise MetricsError(f"{knowledge_dir / 'metrics.yaml'}: {field}: unknown knowledge id {kid}")
        # the cue files the coaching features and the question classifier read: checked here, so a bad
        # one stops start-up with its name rather than failing a rep's message later (both are cached)
        load_cues()
        load_lexicon()
        return cls(kb=kb, index=KnowledgeIndex(kb), talk=talk, flows=flows,
                   messages=Messages(talk_dir / "messages"), metrics=metrics,
                   roleplay=load_roleplay(knowledge_dir, kb))
