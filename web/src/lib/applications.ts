// Permission applications (用户权限申请表, 附件3, 第二十五条): kinds, statuses and steps in Chinese, and the steps the
// signed-in person may take where an application stands.

import type { Me } from './session'

export const APPLICATION_KINDS: Record<string, string> = { grant: '开通', change: '变更', revoke: '撤销' }

export const APPLICATION_STATUSES: Record<string, string> = {
  submitted: '待国库处审核',
  returned: '退回修改',
  forwarded: '已报省财政厅',
  approved: '省财政厅同意',
  rejected: '省财政厅不同意',
  issued: '已开通',
}

// The history's events (gateway.PermissionApplication…) by the last part of their type.
export const APPLICATION_EVENTS: Record<string, string> = {
  PermissionApplicationSubmitted: '提交申请',
  PermissionApplicationReturned: '国库处退回',
  PermissionApplicationResubmitted: '修改后重新提交',
  PermissionApplicationForwarded: '国库处审核通过，报省财政厅',
  PermissionApplicationDecided: '省财政厅答复',
  UserRegistered: '开通账号',
  UserChanged: '变更账号',
  UserRevoked: '撤销账号',
  InitialPasswordIssued: '告知初始密码',
}

export type ApplicationAction = 'review' | 'feedback' | 'resubmit' | 'issue'

export function applicationActions(application: { status: string; applicant: string; kind: string },
  me: Pick<Me, 'username' | 'operations'>): ApplicationAction[] {
  const may = (op: string) => me.operations.includes(`POST /api/v1/permission-applications/{application_id}/${op}`)
  const actions: ApplicationAction[] = []
  if (application.status === 'submitted' && may('review')) actions.push('review')
  if (application.status === 'forwarded' && may('feedback')) actions.push('feedback')
  if (application.status === 'returned' && may('resubmission')) actions.push('resubmit')
  // 开通: once the province approved, an administrator gives the person a one-time password to pass on (告知).
  if (application.status === 'approved' && application.kind === 'grant' && me.operations.includes('POST /api/v1/users')) {
    actions.push('issue')
  }
  return actions
}
