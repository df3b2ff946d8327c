// 规则: a rule proposal (附件2) and a business requirement (附件1) as their forms hold them, checked before sending
// as the API checks them (services/alerting/rules_api.py, proposals_api.py), and the definition a proposal sends.

export const CATEGORIES = ['指标管理', '支出管理', '绩效管理', '到人到户', '工作流程']
export const REQUIREMENT_KINDS = ['预算分配下达', '资金支付', '绩效管理', '其他']
export const PROPOSAL_STATUSES: Record<string, string> = { proposed: '待审核', accepted: '已汇总', rejected: '未采纳',
  approved: '已批准' }
// What an alert of a rule is about (the rule's `subject`).
export const SUBJECTS: Record<string, string> = { payment: '一笔支付', indicator: '一项预算指标', payee: '一个收款人',
  org_unit: '一个区划', division: '一个处（室）', alert: '一条预警' }

export type Definition = Record<string, unknown>

export interface ProposalForm {
  fiscal_year: number
  amends: boolean
  number: string
  name: string
  category: string
  level: string
  description: string
  basis: string
  scope: string[]
  handler: string
  action: string
  subject: string
  on: string[]
  when: string
  summary: string
  contact: string
}

export function proposalForm(year: number, template?: Definition | null): ProposalForm {
  const t = (template ?? {}) as Record<string, never>
  return {
    fiscal_year: year, amends: Boolean(template), number: t.number ?? '', name: t.name ?? '',
    category: t.category ?? '支出管理', level: t.level ?? 'yellow', description: t.description ?? '', basis: t.basis ?? '',
    scope: t.scope ?? ['*'], handler: t.handler ?? '主管处室', action: t.action ?? '预警提示', subject: t.subject ?? 'payment',
    on: t.on ?? ['payments.PaymentRecorded'], when: t.when ?? '', summary: t.summary ?? '', contact: '',
  }
}

/** The faults of a proposal before it is sent, keyed by the form's fields. `thisYear` is the platform's. */
export function checkProposal(form: ProposalForm, thisYear: number, template?: Definition | null): Record<string, string> {
  const faults: Record<string, string> = {}
  if (!(form.fiscal_year > thisYear)) faults.fiscal_year = `须为${thisYear + 1}年及以后`
  if (!form.number.trim()) faults.number = '请填写规则编号'
  if (!form.name.trim()) faults.name = '请填写规则名称'
  if (!CATEGORIES.includes(form.category)) faults.category = '请选择规则分类'
  if (!form.description.trim()) faults.description = '请填写规则描述'
  if (!form.basis.trim()) faults.basis = '请填写规则依据'
  if (!form.scope.length) faults.scope = '请选择适用范围'
  if (!form.handler.trim()) faults.handler = '请填写预警处理人'
  if (!form.summary.trim()) faults.summary = '请填写预警说明'
  const kind = (template?.kind as string | undefined) ?? 'event'
  if (kind !== 'deadline') {
    if (!form.on.length) faults.on = '请选择监测的业务事件'
    if (!form.when.trim()) faults.when = '请填写判断条件'
  }
  if (template?.national && form.amends && form.level !== template.level) faults.level = '国家规定的规则级别不能调整（第二十条）'
  if (form.contact.trim().length > 40) faults.contact = '联系电话不超过40字'
  return faults
}

/** The rule as the API takes it: a template's other parts (parameters, values, window, deadline) kept; a new rule
 * of its own gets an id of its own, an amendment keeps the rule's. */
export function proposalDefinition(form: ProposalForm, template?: Definition | null): Definition {
  // A deep copy through JSON: the template may be a reactive proxy, which structuredClone refuses.
  const base: Definition = template ? JSON.parse(JSON.stringify(template)) : { kind: 'event', values: [] }
  const id = template && form.amends ? template.id : `local.${form.number.trim().toLowerCase()}`
  const mine: Definition = { id, number: form.number.trim(), name: form.name.trim(), category: form.category,
    level: form.level, description: form.description.trim(), basis: form.basis.trim(), scope: form.scope,
    handler: form.handler.trim(), action: form.action.trim() || '预警提示', subject: form.subject, summary: form.summary.trim() }
  if (base.kind !== 'deadline') Object.assign(mine, { on: form.on, when: form.when.trim() })
  if (!(template && form.amends)) mine.national = false
  return { ...base, ...mine }
}

export interface RequirementForm { fiscal_year: number; kind: string; description: string; basis: string; scope: string[];
  contact: string }

export function checkRequirement(form: RequirementForm): Record<string, string> {
  const faults: Record<string, string> = {}
  if (!(form.fiscal_year >= 2000 && form.fiscal_year <= 2100)) faults.fiscal_year = '请填写年度'
  if (!REQUIREMENT_KINDS.includes(form.kind)) faults.kind = '请选择业务需求类型'
  if (!form.description.trim()) faults.description = '请填写业务需求描述'
  else if (form.description.trim().length > 4000) faults.description = '业务需求描述不超过4000字'
  if (!form.basis.trim()) faults.basis = '请填写依据'
  if (!form.scope.length) faults.scope = '请选择适用范围'
  if (form.contact.trim().length > 40) faults.contact = '联系电话不超过40字'
  return faults
}

/** A server fault's field as these forms key it: `body.definition.level` → `level`, `body.scope` → `scope`. */
export function ruleFaultKey(field: string | null | undefined): string {
  return (field ?? '').replace(/^body\./, '').replace(/^definition\./, '').split('.')[0].replace(/\[\d+\]$/, '')
}
