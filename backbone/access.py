"""Who may do what: the one table of every public endpoint and the roles admitted to it.

The gateway checks it before forwarding, and each service checks it again from the forwarded
identity (defence in depth): an endpoint missing from the table is refused to everyone. The
table decides by role only; which records a caller may see or change within an endpoint (its
data scope: a district its org unit, a division its own funds) is decided by the service.
"""

import re
from functools import cache

from fastapi import Request

from backbone.errors import Forbidden
from backbone.identity import MACHINE_ROLES, CurrentPrincipal, Principal
from backbone.settings import SERVICE_PORTS

ADMIN, TREASURY, BUDGET, DIVISION = "admin", "treasury", "budget", "division"
SUPERVISION, INFO_CENTER, POVERTY_OFFICE, DISTRICT = "supervision", "info_center", "poverty_office", "district"
TREASURY_SYSTEM, PROVINCE_SYSTEM = "treasury_system", "province_system"

PEOPLE = frozenset({ADMIN, TREASURY, BUDGET, DIVISION, SUPERVISION, INFO_CENTER, POVERTY_OFFICE, DISTRICT})
MACHINES = MACHINE_ROLES
ROLES = PEOPLE | MACHINES
PUBLIC = frozenset({"*"})  # no identity needed

# Those who keep the ledger: the divisions that receive and allocate money, and the districts.
LEDGER_KEEPERS = frozenset({ADMIN, TREASURY, BUDGET, DIVISION, DISTRICT})
# Those who see payments one by one (district and division reading comes with the payments' scope).
PAYMENT_READERS = frozenset({ADMIN, TREASURY, BUDGET, SUPERVISION, POVERTY_OFFICE, INFO_CENTER, TREASURY_SYSTEM})
REGISTRY_KEEPERS = frozenset({ADMIN, POVERTY_OFFICE, INFO_CENTER, PROVINCE_SYSTEM})
GOAL_FILERS = frozenset({DIVISION, DISTRICT, ADMIN})
GOAL_REVIEWERS = frozenset({BUDGET, ADMIN})  # 预算处 (预算绩效管理办公室)
# 谁主管、谁负责 (the offices 国库处, 预算处, 局脱贫办 for the alerts routed to them); the bureau co-verifies
ALERT_HANDLERS = frozenset({DIVISION, DISTRICT, SUPERVISION, TREASURY, BUDGET, POVERTY_OFFICE})
RULE_PROPOSERS = frozenset({DIVISION, TREASURY, BUDGET, POVERTY_OFFICE, ADMIN})
RULE_KEEPERS = frozenset({TREASURY, ADMIN})
OPERATORS = frozenset({ADMIN, INFO_CENTER})
APPLICANTS = frozenset({DIVISION, DISTRICT, TREASURY, ADMIN})  # 相关处室和区 apply, 国库处 reviews
ACCOUNT_KEEPERS = frozenset({TREASURY, ADMIN})
EXCHANGE_READERS = frozenset({ADMIN, INFO_CENTER, TREASURY, POVERTY_OFFICE, SUPERVISION})
# The monthly report's people (第二十四条): divisions write theirs (and see only them), the treasury consolidates,
# the supervision bureau signs the suspicious items off, the poverty office co-signs (第二十七条).
REPORT_READERS = frozenset({ADMIN, TREASURY, BUDGET, DIVISION, SUPERVISION, INFO_CENTER, POVERTY_OFFICE})
REPORT_WRITERS = frozenset({DIVISION, TREASURY})
USAGE_READERS = frozenset({TREASURY, INFO_CENTER, ADMIN})
# The library (第十七条): the divisions file what they make, copied to 局脱贫办 and 国库处, who mark it read.
LIBRARY_KEEPERS = frozenset({DIVISION, BUDGET, TREASURY, ADMIN})
COPY_READERS = frozenset({POVERTY_OFFICE, TREASURY})

ACCESS: dict[str, frozenset[str]] = {
    # gateway: signing in and out, machine keys
    "GET /api/v1/openapi.json": PUBLIC,
    "POST /api/v1/auth/token": PUBLIC,
    "POST /api/v1/auth/session": PUBLIC,  # the web console's sign-in: a session cookie instead of a token
    "GET /api/v1/me": PEOPLE,
    # 待办: what waits for the caller, each kind only where its roles may take the step (gateway/inbox)
    "GET /api/v1/inbox": PEOPLE,
    "POST /api/v1/auth/logout": PEOPLE,
    "POST /api/v1/auth/password": PEOPLE,
    "POST /api/v1/users/{username}/password-reset": frozenset({ADMIN}),
    "POST /api/v1/auth/second-factor/enrollment": PEOPLE,
    "POST /api/v1/auth/second-factor/confirmation": PEOPLE,
    "POST /api/v1/users/{username}/second-factor-reset": frozenset({ADMIN}),
    "GET /api/v1/api-keys": frozenset({ADMIN}),
    "POST /api/v1/api-keys": frozenset({ADMIN}),
    "POST /api/v1/api-keys/{key_id}/revocation": frozenset({ADMIN}),
    "POST /api/v1/api-keys/{key_id}/rotation": frozenset({ADMIN}),
    # accounts through permission applications (第二十五条, 附件3)
    "POST /api/v1/permission-applications": APPLICANTS,
    "GET /api/v1/permission-applications": PEOPLE | {PROVINCE_SYSTEM},
    "GET /api/v1/permission-applications/form": ACCOUNT_KEEPERS,
    "GET /api/v1/permission-applications/{application_id}": PEOPLE | {PROVINCE_SYSTEM},
    "POST /api/v1/permission-applications/{application_id}/resubmission": APPLICANTS,
    "POST /api/v1/permission-applications/{application_id}/review": ACCOUNT_KEEPERS,
    "POST /api/v1/permission-applications/{application_id}/feedback": ACCOUNT_KEEPERS | {PROVINCE_SYSTEM},
    "POST /api/v1/users": frozenset({ADMIN}),
    "GET /api/v1/users": frozenset({ADMIN, TREASURY, SUPERVISION}),
    # the platform's use (第十条(四)): the treasury and the information center follow it; the treasury's circular goes
    # to the poverty office too
    "GET /api/v1/usage": USAGE_READERS,
    "GET /api/v1/usage/circular": USAGE_READERS | {POVERTY_OFFICE},
    "GET /api/v1/usage/circular/workbook": USAGE_READERS | {POVERTY_OFFICE},
    # the audit trail (第二十八条): the administrators and the supervision bureau
    "GET /api/v1/audit": frozenset({ADMIN, SUPERVISION}),
    "GET /api/v1/audit/verification": frozenset({ADMIN}),
    # data leaving the platform: co-signed by the poverty office (第二十七条); people only
    "POST /api/v1/exports": PEOPLE,
    "GET /api/v1/exports": PEOPLE,
    "GET /api/v1/exports/{export_id}": PEOPLE,
    "POST /api/v1/exports/{export_id}/cosignature": frozenset({POVERTY_OFFICE}),
    "GET /api/v1/exports/{export_id}/file": PEOPLE,
    # ledger
    "POST /api/v1/indicators": LEDGER_KEEPERS,
    "POST /api/v1/indicators/import": LEDGER_KEEPERS,
    "GET /api/v1/indicators/{indicator_id}": ROLES,  # the treasury system looks up what it pays against
    "POST /api/v1/indicators/{indicator_id}/adjustments": LEDGER_KEEPERS,
    "POST /api/v1/indicators/{indicator_id}/allocations": LEDGER_KEEPERS,
    "POST /api/v1/indicators/{indicator_id}/corrections": LEDGER_KEEPERS,
    "POST /api/v1/indicators/{indicator_id}/withdrawals": LEDGER_KEEPERS,
    "GET /api/v1/indicators/{indicator_id}/documents": PEOPLE,
    "POST /api/v1/indicators/{indicator_id}/documents": LEDGER_KEEPERS,
    "GET /api/v1/indicators/{indicator_id}/documents/{sha256}": PEOPLE,
    "GET /api/v1/indicators/{indicator_id}/flow": PEOPLE,
    "POST /api/v1/library": LIBRARY_KEEPERS,
    "GET /api/v1/library": PEOPLE,
    "GET /api/v1/library/{document_id}": PEOPLE,
    "GET /api/v1/library/{document_id}/file": PEOPLE,
    "POST /api/v1/library/{document_id}/read": COPY_READERS,
    "GET /api/v1/ledger": PEOPLE,
    "GET /api/v1/ledger/export": PEOPLE,
    # payments and the registries
    "POST /api/v1/payments/batch": frozenset({TREASURY_SYSTEM, ADMIN}),
    "POST /api/v1/payments/{payment_id}/refunds": frozenset({TREASURY_SYSTEM, ADMIN}),
    "GET /api/v1/payments": PAYMENT_READERS,
    "POST /api/v1/payments/search": PAYMENT_READERS,
    # a district its own org unit's payments (payments do not know which division owns their fund)
    "GET /api/v1/payments/export": (PAYMENT_READERS - MACHINES) | {DISTRICT},
    "POST /api/v1/registry/poor-population/import": REGISTRY_KEEPERS,
    "POST /api/v1/registry/public-employees/import": REGISTRY_KEEPERS,
    "POST /api/v1/registry/poor-population/updates": REGISTRY_KEEPERS,
    "POST /api/v1/registry/public-employees/updates": REGISTRY_KEEPERS,
    "GET /api/v1/registry/imports/{import_id}": REGISTRY_KEEPERS | {TREASURY, SUPERVISION},
    "GET /api/v1/registry/imports/{import_id}/faults": REGISTRY_KEEPERS | {TREASURY, SUPERVISION},
    # and the PII permission besides, and a district sees its own org unit's entries (checked by the service)
    "POST /api/v1/registry/persons/lookup": PEOPLE,
    # performance
    "POST /api/v1/performance-goals": GOAL_FILERS,
    "GET /api/v1/performance-goals": PEOPLE,
    "GET /api/v1/performance-goals/summary": PEOPLE,
    "GET /api/v1/performance-goals/export": PEOPLE,
    "GET /api/v1/performance-goals/{goal_id}": PEOPLE,
    "GET /api/v1/performance-goals/{goal_id}/history": PEOPLE,
    "POST /api/v1/performance-goals/{goal_id}/progress": GOAL_FILERS,
    "POST /api/v1/performance-goals/{goal_id}/evaluation": GOAL_FILERS,
    "POST /api/v1/performance-goals/{goal_id}/reviews": GOAL_REVIEWERS,
    # alerting
    "GET /api/v1/alerts": PEOPLE,
    "GET /api/v1/alerts/stream": PEOPLE,
    "GET /api/v1/alerts/{alert_id}": PEOPLE,
    "GET /api/v1/alerts/export": PEOPLE,
    "POST /api/v1/alerts/{alert_id}/dispositions": ALERT_HANDLERS,
    "GET /api/v1/dispositions": PEOPLE,
    "GET /api/v1/referrals": frozenset({SUPERVISION, ADMIN}),  # 移交: the supervision bureau's inbox
    "POST /api/v1/referrals/{number}/outcome": frozenset({SUPERVISION}),  # what the bureau found and decided
    "GET /api/v1/circulars": PEOPLE,  # 通报, within each one's scope
    # 暂缓拨付: the division that owns the fund asks to lift it, the supervision bureau consents
    "GET /api/v1/suspensions/{indicator_id}": PEOPLE,
    "POST /api/v1/suspensions/{indicator_id}/lift-request": frozenset({DIVISION, TREASURY, BUDGET, POVERTY_OFFICE}),
    "POST /api/v1/suspensions/{indicator_id}/lift-decision": frozenset({SUPERVISION}),
    "GET /api/v1/dispositions/export": PEOPLE,
    # people to reach (第十八条): everyone reads the register; a district or division sets its own row, the
    # treasury any (checked by the service); the deliveries are the operators' and the treasury's record
    "GET /api/v1/liaisons": PEOPLE,
    "GET /api/v1/liaisons/{unit}": PEOPLE,
    "PUT /api/v1/liaisons/{unit}": frozenset({DISTRICT, DIVISION, TREASURY, ADMIN}),
    "GET /api/v1/notifications/deliveries": OPERATORS | {TREASURY},
    "GET /api/v1/rules": PEOPLE,
    "POST /api/v1/rules": RULE_PROPOSERS,
    "POST /api/v1/rules/{rule_id}/backtest": RULE_PROPOSERS,
    "GET /api/v1/rule-proposals": PEOPLE,
    "GET /api/v1/rule-proposals/export": PEOPLE,
    "POST /api/v1/rule-proposals/{proposal_id}/review": RULE_KEEPERS,
    "POST /api/v1/rule-proposals/{proposal_id}/approval": RULE_KEEPERS,
    "POST /api/v1/rule-proposals/submission": RULE_KEEPERS,
    "POST /api/v1/requirements": RULE_PROPOSERS | {DISTRICT},  # a district's goes to a division (第十五条)
    "GET /api/v1/requirements": PEOPLE,
    "GET /api/v1/requirements/{requirement_id}": PEOPLE,
    "POST /api/v1/requirements/{requirement_id}/comments": frozenset({DISTRICT}),
    "GET /api/v1/requirements/export": PEOPLE,
    # sync: the daily rollups of the districts (第二十六条(二)); a district sees its own
    "GET /api/v1/rollups": (PEOPLE - {DIVISION}),
    "POST /api/v1/rollups/{rollup_date}/rerun": frozenset({TREASURY, INFO_CENTER, ADMIN}),
    # the exchange with the province: the information center's queue (第十四条), the poverty office's standing
    # authorizations for routine data (第二十七条)
    "GET /api/v1/exchange/messages": EXCHANGE_READERS,
    "POST /api/v1/exchange/messages/{message_id}/resend": OPERATORS,
    "GET /api/v1/exchange/authorizations": EXCHANGE_READERS,
    "POST /api/v1/exchange/authorizations": frozenset({POVERTY_OFFICE}),
    "POST /api/v1/exchange/authorizations/{authorization_id}/revocation": frozenset({POVERTY_OFFICE}),
    # the monthly reports (月报, 第二十四条); a division sees its own
    "POST /api/v1/monthly-reports": REPORT_WRITERS,
    "GET /api/v1/monthly-reports": REPORT_READERS,
    "GET /api/v1/monthly-reports/{report_id}": REPORT_READERS,
    "POST /api/v1/monthly-reports/{report_id}/analysis": REPORT_WRITERS,
    "GET /api/v1/monthly-reports/{report_id}/workbook": REPORT_READERS,
    "POST /api/v1/monthly-reports/{report_id}/submission": frozenset({DIVISION}),
    "POST /api/v1/monthly-reports/{report_id}/supervision-review": frozenset({SUPERVISION}),
    "POST /api/v1/monthly-reports/{report_id}/cosignature": frozenset({POVERTY_OFFICE}),
    "POST /api/v1/monthly-reports/{report_id}/revision": frozenset({TREASURY}),
    # the district statistics (第七条(二), 第二十三条): a district sees itself, a division its funds, the city all
    "GET /api/v1/districts/statistics": PEOPLE,
    "GET /api/v1/districts/statistics/workbook": PEOPLE,
    # messages from the province (指标下达, receipts, permission answers, rule levels): its platform's key only,
    # each message signed besides with the province's own key
    "POST /api/v1/exchange/inbound": frozenset({PROVINCE_SYSTEM}),
    "GET /api/v1/exchange/inbound": EXCHANGE_READERS,
    # operations
    **{f"GET /api/v1/admin/dead-letters/{service}": OPERATORS for service in SERVICE_PORTS},
    **{f"POST /api/v1/admin/dead-letters/{service}/{{letter_id}}/replay": OPERATORS for service in SERVICE_PORTS},
}


def admitted(principal: Principal | None, method: str, template: str) -> None:
    """Refuse a caller whose roles the table does not admit to the endpoint (or an endpoint not in it)."""
    roles = ACCESS.get(f"{method} {template}")
    if roles is PUBLIC:
        return
    if roles is None:
        raise Forbidden(f"{method} {template} is not in the access table")
    if principal is None or not roles & set(principal.roles):
        raise Forbidden(f"{method} {template} is for: {', '.join(sorted(roles))}")


@cache
def _patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    patterns = []
    for key in ACCESS:
        method, template = key.split(" ", 1)
        parts = ("[^/]+" if part.startswith("{") else re.escape(part) for part in template.split("/"))
        patterns.append((method, template, re.compile("/".join(parts))))
    # Literal segments before parameters: /rule-proposals/submission is not /rule-proposals/{proposal_id}.
    patterns.sort(key=lambda p: p[1].count("{"))
    return patterns


def template_of(method: str, path: str) -> str | None:
    """The table's endpoint a concrete path belongs to (the gateway does not know the services' routes)."""
    # The whole path: `$` would also match before a final newline (/ledger/export%0A).
    return next((template for m, template, pattern in _patterns() if m == method and pattern.fullmatch(path)), None)


async def authorize(request: Request, principal: CurrentPrincipal) -> None:
    """The table's check in a service, on the route the request matched; the caller is then at hand as
    `request.state.principal`, as at the gateway."""
    admitted(principal, request.method, request.scope["route"].path)
    request.state.principal = principal
