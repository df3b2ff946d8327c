"""ZC-009 (无预算指标支付) starts a clock on every payment naming an indicator, which the indicator's registration
settles ahead. Indicators registered before the rule came have no such settled clock: settle theirs here, or the
first payment on each would ring as if its indicator were unknown.

Revision ID: alerting_0013
Revises: alerting_0012
"""

from alembic import op
from sqlalchemy import text

from services.alerting.deadlines import watch_id_for

revision = "alerting_0013"
down_revision = "alerting_0012"
branch_labels = None
depends_on = None

RULE_ID = "spending.payment_indicator_unknown"


def upgrade() -> None:
    bind = op.get_bind()
    known = bind.execute(text("SELECT indicator_id, fiscal_year, org_unit, owner_division FROM "
                              "alerting.indicator_balances WHERE amount IS NOT NULL")).all()
    if not known:
        return
    bind.execute(text(
        "INSERT INTO alerting.watches (watch_id, rule_id, subject_id, state, counts_from, due_at, period, org_unit,"
        " owner_division, facts, started_at, settled_at) VALUES (:watch_id, :rule_id, :subject_id, 'met',"
        " current_date, now(), :period, :org_unit, :owner_division, '{\"met_by\": \"alerting_0013\"}', now(), now())"
        " ON CONFLICT DO NOTHING"), [
        {"watch_id": watch_id_for(RULE_ID, row.indicator_id), "rule_id": RULE_ID, "subject_id": row.indicator_id,
         "period": str(row.fiscal_year), "org_unit": row.org_unit, "owner_division": row.owner_division}
        for row in known])
