"""role-play sessions and scorecards

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roleplay_drills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["trainer_id"], ["users.id"], name=op.f("fk_roleplay_drills_trainer_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_drills")),
        sa.UniqueConstraint("code", name=op.f("uq_roleplay_drills_code")),
    )
    with op.batch_alter_table("roleplay_drills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roleplay_drills_trainer_id"), ["trainer_id"], unique=False)

    op.create_table(
        "roleplay_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_roleplay_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["drill_id"], ["roleplay_drills.id"],
                                name=op.f("fk_roleplay_sessions_drill_id_roleplay_drills"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_sessions")),
    )
    with op.batch_alter_table("roleplay_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_roleplay_sessions_user_status", ["user_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_roleplay_sessions_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "roleplay_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("rep", sa.Text(), nullable=False),
        sa.Column("customer", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["roleplay_sessions.id"],
                                name=op.f("fk_roleplay_turns_session_id_roleplay_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_turns")),
        sa.UniqueConstraint("session_id", "n", name="uq_roleplay_turns_session_n"),
    )

    op.create_table(
        "roleplay_scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("opening", sa.Integer(), nullable=False),
        sa.Column("questioning", sa.Integer(), nullable=False),
        sa.Column("spin", sa.Integer(), nullable=False),
        sa.Column("listening", sa.Integer(), nullable=False),
        sa.Column("fab", sa.Integer(), nullable=False),
        sa.Column("objections", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Integer(), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("talk_share", sa.Float(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["roleplay_sessions.id"],
                                name=op.f("fk_roleplay_scorecards_session_id_roleplay_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_roleplay_scorecards_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["drill_id"], ["roleplay_drills.id"],
                                name=op.f("fk_roleplay_scorecards_drill_id_roleplay_drills"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_scorecards")),
        sa.UniqueConstraint("session_id", name=op.f("uq_roleplay_scorecards_session_id")),
    )
    with op.batch_alter_table("roleplay_scorecards", schema=None) as batch_op:
        batch_op.create_index("ix_roleplay_scorecards_user_time", ["user_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_roleplay_scorecards_drill_id"), ["drill_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roleplay_scorecards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roleplay_scorecards_drill_id"))
        batch_op.drop_index("ix_roleplay_scorecards_user_time")
    op.drop_table("roleplay_scorecards")
    op.drop_table("roleplay_turns")
    with op.batch_alter_table("roleplay_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roleplay_sessions_drill_id"))
        batch_op.drop_index("ix_roleplay_sessions_user_status")
    op.drop_table("roleplay_sessions")
    with op.batch_alter_table("roleplay_drills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roleplay_drills_trainer_id"))
    op.drop_table("roleplay_drills")
