"""/customers: a rep's own customers with stage, relationship, the value × attitude cell and its action."""

from __future__ import annotations

from sqlalchemy import select

from bot.engine.features.accounts import grid_cell
from bot.runtime import Runtime
from db.models import Customer, User
from db.store import Store
from tests.helpers import Clock, Rep


async def add_customers(runtime: Runtime, rep: Rep, names: list[str]) -> dict[str, int]:
    """Customers created the way flows create them (the rep must have talked to the bot first)."""
    async with runtime.sessions() as session:
        store = Store(session, runtime.engine.clock)
        user_id = await session.scalar(select(User.id).where(User.telegram_id == rep.user_id))
        assert user_id is not None
        ids = {name: (await store.customers.ensure(user_id, name)).id for name in names}
        await store.commit()
    return ids


async def test_no_customers_yet_points_to_the_flows(rep: Rep) -> None:
    await rep.say("/customers")
    assert "还没有客户" in rep.last and "/visit1" in rep.last


async def test_value_and_attitude_buttons_place_the_customer_in_the_grid(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/start")
    await add_customers(runtime, rep, ["华为技术"])
    await rep.say("/customers")
    assert "华为技术" in rep.last and "普通信息" in rep.last and "关系 C 级" in rep.last
    assert "设好价值和态度" in rep.last  # no cell until value and attitude are set
    await rep.press("华为技术")
    assert "🏢 华为技术" in rep.last
    await rep.press("价值大")
    assert rep.replies[-1].edit  # the card is updated in place
    await rep.press("态度中")
    assert "第 4 格" in rep.last and "重点投入" in rep.last
    assert rep.button("✅ 价值大") and rep.button("✅ 态度中")
    await rep.press("关系 B")
    assert "关系:B 级" in rep.last
    await rep.press("返回客户列表")
    assert "重点(4、5 格):1 家" in rep.last and "第 4 格" in rep.last
    async with runtime.sessions() as session:
        row = await session.scalar(select(Customer).where(Customer.name == "华为技术"))
    assert row is not None and (row.value_tier, row.attitude, row.relationship) == ("large", "neutral", "B")


async def test_every_cell_has_its_recommended_action(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/start")
    ids = await add_customers(runtime, rep, ["甲公司"])
    cid = ids["甲公司"]
    expected = {
        ("large", "good"): (1, "保持联系"), ("medium", "good"): (2, "保持联系"), ("small", "good"): (3, "电话销售"),
        ("large", "neutral"): (4, "重点投入"), ("medium", "neutral"): (5, "重点投入"),
        ("small", "neutral"): (6, "较少的时间"), ("large", "poor"): (7, "改变销售策略"),
        ("medium", "poor"): (8, "改变销售策略"), ("small", "poor"): (9, "别浪费时间"),
    }
    for (value, attitude), (cell, action) in expected.items():
        assert grid_cell(value, attitude) == cell
        await rep.press_data(f"cu:v:{cid}:{value}")
        await rep.press_data(f"cu:a:{cid}:{attitude}")
        assert f"第 {cell} 格" in rep.last and action in rep.last, (value, attitude)


async def test_customers_in_english(en_rep: Rep, runtime: Runtime) -> None:
    await en_rep.say("/start")
    ids = await add_customers(en_rep.runtime, en_rep, ["Acme Labs"])
    await en_rep.press_data(f"cu:v:{ids['Acme Labs']}:small")
    await en_rep.press_data(f"cu:a:{ids['Acme Labs']}:poor")
    assert "cell 9" in en_rep.last and "don't waste your time" in en_rep.last
    await en_rep.say("/customers")
    assert "My customers" in en_rep.last and "General lead" in en_rep.last and "cell 9" in en_rep.last


async def test_forged_or_foreign_customer_buttons_are_refused(rep: Rep, en_rep: Rep, runtime: Runtime) -> None:
    await rep.say("/start")
    await en_rep.say("/start")
    theirs = (await add_customers(runtime, en_rep, ["Secret Corp"]))["Secret Corp"]
    mine = (await add_customers(runtime, rep, ["华为技术"]))["华为技术"]
    for data in (f"cu:o:{theirs}", f"cu:v:{theirs}:large", f"cu:v:{mine}:huge", f"cu:r:{mine}:Z",
                 "cu:o:abc", "cu:x:1", "cu:o:99999", f"cu:o:{mine}:extra", "cu:p:-1"):
        await rep.press_data(data)
        assert rep.last.startswith("⚠️"), data
    async with runtime.sessions() as session:
        row = await session.scalar(select(Customer).where(Customer.id == theirs))
    assert row is not None and row.value_tier == ""  # nothing changed on the other rep's customer
    await rep.say("/customers")
    assert "Secret Corp" not in rep.last


async def test_many_customers_are_paged_and_searchable(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/start")
    names = [f"客户{i:02d}" for i in range(1, 12)]
    for name in names:
        await add_customers(runtime, rep, [name])
        clock.advance(minutes=1)
    await rep.say("/customers")
    assert "共 11 家" in rep.last and "第 1/2 页" in rep.last
    assert "客户11" in rep.last and "客户01" not in rep.last  # most recently touched first
    assert len([b for row in rep.replies[0].buttons for b in row if b.data.startswith("cu:o:")]) == 8
    await rep.press("下一页")
    assert "第 2/2 页" in rep.last and "客户01" in rep.last
    await rep.press_data("cu:p:40")  # a page beyond the end shows the last page
    assert "第 2/2 页" in rep.last
    await rep.say("/customers 客户05")
    assert "🏢 客户05" in rep.last  # a single match opens the customer
    await rep.say("/customers 不存在的公司")
    assert rep.last.startswith("⚠️")
    await rep.say("/customers " + "长" * 200)
    assert rep.last.startswith("⚠️")


async def test_customer_card_shows_records_and_next_visit(rep: Rep) -> None:
    await rep.say("/debrief1")
    await rep.say("华为技术")
    await rep.press("达到了")
    await rep.say("交货周期太长")
    await rep.press("完成")
    await rep.press("是")
    await rep.say("0")
    await rep.press("有效信息")
    await rep.press("是")
    await rep.say("下周二")
    await rep.say("/skip")
    await rep.say("/skip")
    await rep.press("保存")
    await rep.say("/customers")
    assert "有效信息" in rep.last and "12月1日(周二)" in rep.last
    await rep.press("华为技术")
    assert "第一次拜访复盘" in rep.last and "交货周期太长" in rep.last and "待发提醒" in rep.last


async def test_customers_inside_a_flow_reminds_where_the_rep_was(rep: Rep) -> None:
    await rep.say("/visit1")
    await rep.say("华为技术")
    await rep.say("/customers")
    assert "还没完成" in rep.last and "/repeat" in rep.last
    await rep.say("/repeat")
    assert "你打算怎么做" in rep.last
