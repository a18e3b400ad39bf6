"""Scripted talk renders with the rep's slots, falls back to defaults, never fails on a missing one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.models import LANGS, Lang
from bot.kb.talk import TalkRenderer
from tests.kb.conftest import TALK

OPENING = (
    "{{ contact }}您好，我是{{ rep_company }}的{{ rep }}。想占用您{{ minutes }}分钟，{{ purpose }}。\n"
    "{% for need in needs %}\n{{ loop.index }}. {{ need }}\n{% endfor %}\n"
    "{% if competitor %}和{{ competitor }}相比，{% endif %}{{ undefined_thing }}"
)
OPENING_EN = (
    "Hello {{ contact }}, I am {{ rep }} from {{ rep_company }}. Your needs: {{ needs | join('; ') }}. "
    "{{ needs }}. {{ undefined_thing }} {{ contact.title }}"
)


@pytest.fixture
def talk(tmp_path: Path) -> TalkRenderer:
    for lang, text in (("zh", OPENING), ("en", OPENING_EN)):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "opening.j2").write_text(text, encoding="utf-8")
    (tmp_path / "zh" / "zh_only.j2").write_text("只有中文", encoding="utf-8")
    (tmp_path / "defaults.yaml").write_text(
        "zh:\n  contact: 您\n  rep: 我\n  rep_company: 我们公司\n  minutes: 20\n  purpose: 了解需求\n"
        "  needs: [交货周期, 售后服务]\n"
        "en:\n  contact: there\n  rep: me\n  needs: [delivery time, service]\n",
        encoding="utf-8",
    )
    return TalkRenderer(tmp_path)


def test_slots_fill_the_template(talk: TalkRenderer) -> None:
    text = talk.render(
        "opening",
        "zh",
        contact="王经理",
        rep="小李",
        rep_company="华测仪器",
        minutes=15,
        purpose="介绍新款示波器",
        needs=["测试精度", "价格"],
        competitor="A公司",
    )
    assert text.startswith("王经理您好，我是华测仪器的小李。想占用您15分钟，介绍新款示波器。")
    assert "1. 测试精度\n2. 价格\n" in text
    assert "和A公司相比，" in text


def test_missing_and_empty_slots_use_defaults(talk: TalkRenderer) -> None:
    text = talk.render("opening", "zh", contact=None, rep="", needs=[])
    assert text.startswith("您您好，我是我们公司的我。想占用您20分钟，了解需求。")
    assert "1. 交货周期\n2. 售后服务" in text
    assert "相比" not in text  # an absent slot is falsy, so templates can leave a clause out
    assert text.endswith("……")  # no default at all: a neutral blank, not an error


def test_english_defaults_lists_and_blanks(talk: TalkRenderer) -> None:
    text = talk.render("opening", "en")
    assert text.startswith("Hello there, I am me from …. Your needs: delivery time; service.")
    assert "delivery time, service. …" in text  # a default list prints joined, never as a repr
    given = talk.render("opening", "en", needs=("price", "speed"))
    assert "Your needs: price; speed. price, speed." in given


def test_template_logic_on_missing_placeholders_never_fails(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "numbers.j2").write_text(
            "{{ calls + visits }}|{{ minutes * 2 }}|{{ minutes + calls }}|{% if visits > 3 %}many{% endif %}"
            "|{{ visits | int }}|{{ needs[0] }}|{{ needs | length }}|{{ contact.title }}|{{ nothing() }}",
            encoding="utf-8",
        )
    (tmp_path / "defaults.yaml").write_text("zh: {minutes: 20, needs: [交期]}\nen: {}\n", encoding="utf-8")
    talk = TalkRenderer(tmp_path)
    assert talk.render("numbers", "zh") == "……|40|……||0|交期|1|……|……"
    assert talk.render("numbers", "zh", calls=2, visits=5) == "7|40|22|many|5|交期|1|……|……"
    assert talk.render("numbers", "en") == "…|…|…||0|…|0|…|…"


def test_names_and_unknown_template(talk: TalkRenderer) -> None:
    assert talk.names() == ["opening", "zh_only"]
    assert talk.has("zh_only", "zh")
    assert not talk.has("zh_only", "en")
    with pytest.raises(KeyError) as raised:
        talk.render("zh_only", "en")
    assert raised.value.args[0] == "zh_only"
    with pytest.raises(KeyError, match="nothing_here"):
        talk.render("nothing_here", "zh")


def test_templates_are_compiled_once(talk: TalkRenderer, tmp_path: Path) -> None:
    (tmp_path / "zh" / "opening.j2").write_text("changed", encoding="utf-8")
    assert talk.render("opening", "zh").startswith("您您好")


@pytest.mark.parametrize("lang", LANGS)
def test_every_real_template_renders_without_slots(lang: Lang) -> None:
    real = TalkRenderer(TALK)
    for name in real.names():
        if real.has(name, lang):
            text = real.render(name, lang)
            assert "Undefined" not in text, name
            assert "None" not in text, name
