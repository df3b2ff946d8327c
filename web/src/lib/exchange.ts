// The exchange with the province (第十四条): message kinds and delivery statuses in Chinese, and which outbound
// messages the information center may send again.

export const MESSAGE_KINDS: Record<string, string> = {
  daily_rollup: '日报',
  monthly_report: '月报',
  permission_application: '权限申请（附件3）',
  rule_submission: '预警规则报送（附件1、附件2）',
  indicators_issued: '指标下达',
  receipt: '回执',
  permission_answer: '权限申请反馈',
  rule_levels: '预警级别',
}

export const MESSAGE_STATUSES: Record<string, string> = {
  awaiting_authorization: '待局脱贫办授权',
  pending: '待发送',
  sent: '已发送',
  acknowledged: '省厅已回执',
  refused: '省厅退回',
  failed: '发送失败',
}

// Refused and failed messages are the information center's queue: only they are sent again (as they are).
export function resendable(status: string): boolean {
  return status === 'refused' || status === 'failed'
}
