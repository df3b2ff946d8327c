"""What counts as waiting for a person (待办), and how each kind of thing waiting is shown. No I/O.

A kind is in a person's inbox only when the access table admits their roles to the step that takes it on; which
records of that kind they see is decided by the service that keeps them (the caller's data scope)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from backbone.access import ACCESS
from backbone.identity import Principal


class InboxKind(StrEnum):
    ALERT = "alert"  # 预警处理
    FILING_REVIEW = "filing_review"  # 绩效目标审核
    PERMISSION_REVIEW = "permission_review"  # 权限申请审核
    EXPORT_COSIGNATURE = "export_cosignature"  # 导出会签
    REPORT_SUBMISSION = "report_submission"  # 月报待报国库处
    REPORT_SUPERVISION_REVIEW = "report_supervision_review"  # 月报疑点审核
    REPORT_COSIGNATURE = "report_cosignature"  # 月报会签
    RULE_PROPOSAL_REVIEW = "rule_proposal_review"  # 规则申请审核 (附件2)
    RULE_PROPOSAL_APPROVAL = "rule_proposal_approval"  # 规则待批准


LABELS = {InboxKind.ALERT: "预警处理", InboxKind.FILING_REVIEW: "绩效目标审核",
          InboxKind.PERMISSION_REVIEW: "权限申请审核", InboxKind.EXPORT_COSIGNATURE: "导出会签",
          InboxKind.REPORT_SUBMISSION: "月报待报国库处", InboxKind.REPORT_SUPERVISION_REVIEW: "月报疑点审核",
          InboxKind.REPORT_COSIGNATURE: "月报会签", InboxKind.RULE_PROPOSAL_REVIEW: "规则申请审核",
          InboxKind.RULE_PROPOSAL_APPROVAL: "规则待批准"}

# A bell clears or escalates by itself; a person acts on a yellow (核实) or red (纠正) light.
ACTIONABLE_LEVELS = frozenset({"yellow", "red"})


class InboxItem(BaseModel):
    kind: InboxKind
    label: str = Field(description="The kind in the console's words (预警处理, 月报会签 …).")
    id: str = Field(description="The id of the thing waiting (alert, goal, application, export, report).")
    title: str
    level: str | None = Field(None, description="An alert's level.")
    at: datetime = Field(description="Since when it waits.")
    link: str = Field(description="The console's page of it.")


@dataclass(frozen=True)
class Source:
    """Where one kind of waiting thing is listed: a service's list (or the gateway's own, service None) with the
    filters that select what waits, and the step (an access-table endpoint) that takes it on."""

    kind: InboxKind
    step: str
    service: str | None
    path: str
    params: Mapping[str, str] = field(default_factory=dict)


SOURCES: tuple[Source, ...] = (
    Source(InboxKind.ALERT, "POST /api/v1/alerts/{alert_id}/dispositions", "alerting", "/alerts",
           {"status": "open"}),
    Source(InboxKind.FILING_REVIEW, "POST /api/v1/performance-goals/{goal_id}/reviews", "performance",
           "/performance-goals", {"status": "filed"}),
    Source(InboxKind.PERMISSION_REVIEW, "POST /api/v1/permission-applications/{application_id}/review", None,
           "/permission-applications", {"status": "submitted"}),
    Source(InboxKind.EXPORT_COSIGNATURE, "POST /api/v1/exports/{export_id}/cosignature", None, "/exports",
           {"status": "requested"}),
    Source(InboxKind.REPORT_SUBMISSION, "POST /api/v1/monthly-reports/{report_id}/submission", "sync",
           "/monthly-reports", {"status": "draft", "kind": "division"}),
    Source(InboxKind.REPORT_SUPERVISION_REVIEW, "POST /api/v1/monthly-reports/{report_id}/supervision-review", "sync",
           "/monthly-reports", {"status": "consolidated", "kind": "city"}),
    Source(InboxKind.REPORT_COSIGNATURE, "POST /api/v1/monthly-reports/{report_id}/cosignature", "sync",
           "/monthly-reports", {"status": "supervision_reviewed", "kind": "city"}),
    Source(InboxKind.RULE_PROPOSAL_REVIEW, "POST /api/v1/rule-proposals/{proposal_id}/review", "alerting",
           "/rule-proposals", {"status": "proposed"}),
    Source(InboxKind.RULE_PROPOSAL_APPROVAL, "POST /api/v1/rule-proposals/{proposal_id}/approval", "alerting",
           "/rule-proposals", {"status": "accepted"}),
)


def sources_for(principal: Principal) -> list[Source]:
    """The kinds of things a person may take on, by their roles."""
    return [s for s in SOURCES if ACCESS[s.step] & set(principal.roles)]


def items_of(kind: InboxKind, rows: Sequence[Mapping[str, Any]]) -> list[InboxItem]:
    """The waiting things of one kind, from the rows its list gave."""
    label = LABELS[kind]
    match kind:
        case InboxKind.ALERT:
            return [InboxItem(kind=kind, label=label, id=r["id"], title=f"{r['rule_number']} {r['rule_name']}",
                              level=r["level"], at=r.get("step_since") or r["raised_at"], link=f"/alerts/{r['id']}")
                    for r in rows if r["level"] in ACTIONABLE_LEVELS]
        case InboxKind.FILING_REVIEW:
            return [InboxItem(kind=kind, label=label, id=r["id"], title=r["goal"], at=r["updated_at"],
                              link="/performance") for r in rows if r.get("updated_at")]
        case InboxKind.PERMISSION_REVIEW:
            return [InboxItem(kind=kind, label=label, id=r["application_id"], title=r["form"].get("name", ""),
                              at=r["submitted_at"], link="/applications") for r in rows]
        case InboxKind.EXPORT_COSIGNATURE:
            return [InboxItem(kind=kind, label=label, id=r["export_id"], title=r["purpose"], at=r["requested_at"],
                              link="/exports") for r in rows]
        case InboxKind.RULE_PROPOSAL_REVIEW | InboxKind.RULE_PROPOSAL_APPROVAL:
            return [InboxItem(kind=kind, label=label, id=r["proposal_id"], title=f"{r['number']} {r['name']}",
                              at=r["proposed_at"], link="/rules") for r in rows]
    return [InboxItem(kind=kind, label=label, id=r["report_id"],
                      title=f"{r['month']} {'全市' if r['kind'] == 'city' else ''}月报", at=r["updated_at"],
                      link=f"/reports/{r['report_id']}") for r in rows]


def counted(items: Sequence[InboxItem], kinds: Sequence[InboxKind]) -> dict[str, int]:
    """How many things wait, by kind (every kind the person may take on, with 0 where nothing waits)."""
    counts = {k.value: 0 for k in kinds}
    for item in items:
        counts[item.kind.value] += 1
    return counts
