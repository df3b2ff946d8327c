// The monthly report (月报, 第二十四条): its statuses and steps in Chinese, and which actions the signed-in person
// may take on a report where it stands (the sync service's transition tables and separation of duties, 第二十七条).

import type { Me } from './session'

export interface FundFigures { fund_name: string; received: string; allocated: string; paid: string; refunded: string;
  available: string; payment_progress: string | null }
export interface ReportStepOut { step: string; from_status: string | null; to_status: string; actor: string; at: string;
  opinion: string | null }
export interface Report {
  report_id: string
  kind: 'division' | 'city'
  month: string
  division: string
  version: number
  corrects: string | null
  status: string
  prepared_by: string
  analysis: string | null
  figures: {
    as_of: string
    time_progress: string
    districts: { org_unit: string; org_unit_name: string; totals: FundFigures }[]
    funds: FundFigures[]
    totals: FundFigures
    alerts: { raised: { level: string; rule_number: string; count: number }[]; handled_green: number;
      handled_red: number; still_open: { alert_id: string; level: string; rule_number: string; org_unit: string | null;
        working_days: number }[] }
    disposals: { violations_confirmed: number; recovered: string; measures: { measure: string; count: number }[] }
    performance: { goals_set: number; reports_filed: number; severe_deviations: number }
    suspicious: { alert_id: string; rule_number: string; level: string; status: string; org_unit: string | null;
      owner_division: string | null; result: string | null; method: string | null }[]
  }
  divisions: { division: string; division_name: string; report_id: string | null; version: number | null;
    totals: FundFigures | null; analysis: string | null; without_reason: string | null }[]
  supervision_opinion: string | null
  supervised_by: string | null
  cosigner: string | null
  cosigned_at: string | null
  cosignature_opinion: string | null
  message_id: string | null
  province_reason: string | null
  consolidated_into: string | null
  created_at: string
  updated_at: string
  history: ReportStepOut[] | null
}

export const REPORT_KINDS: Record<string, string> = { division: '处室月报', city: '全市月报' }

export const REPORT_STATUSES: Record<string, string> = {
  draft: '草稿',
  submitted: '已报国库处',
  consolidated: '已汇总',
  supervision_reviewed: '监督局已审核疑点',
  cosigned: '局脱贫办已会签',
  sent: '已报省财政厅',
  acknowledged: '省财政厅已回执',
  returned: '已退回',
}

export const REPORT_STEPS: Record<string, string> = {
  draft: '起草',
  edit: '填写问题及建议',
  submit: '报国库处',
  consolidate: '汇总',
  approve_suspicious: '监督局审核通过',
  return_suspicious: '监督局退回',
  cosign: '局脱贫办会签',
  refuse_cosignature: '局脱贫办退回',
  send: '报送省财政厅',
  acknowledge: '省财政厅回执',
  return: '省财政厅退回',
}

export type ReportAction = 'edit' | 'submit' | 'supervision' | 'cosign' | 'revise'

export const ACTION_LABELS: Record<ReportAction, string> = {
  edit: '填写问题及建议',
  submit: '报国库处',
  supervision: '审核疑点',
  cosign: '会签',
  revise: '修订（新版本）',
}

// What `me` may do on `report` now. The server decides in the end; this only keeps buttons that would be refused
// off the page.
export function reportActions(report: Pick<Report, 'kind' | 'status' | 'division' | 'prepared_by' | 'supervised_by'>,
  me: Pick<Me, 'username' | 'roles' | 'division'>): ReportAction[] {
  const has = (role: string) => me.roles.includes(role)
  const actions: ReportAction[] = []
  if (report.kind === 'division') {
    if (report.status === 'draft' && has('division') && me.division === report.division) actions.push('edit', 'submit')
    return actions
  }
  const preparer = report.prepared_by === me.username
  if (report.status === 'consolidated' && has('treasury')) actions.push('edit')
  if (report.status === 'consolidated' && has('supervision') && !preparer) actions.push('supervision')
  if (report.status === 'supervision_reviewed' && has('poverty_office') && !preparer
      && report.supervised_by !== me.username) actions.push('cosign')
  if ((report.status === 'returned' || report.status === 'acknowledged') && has('treasury')) actions.push('revise')
  return actions
}
