// The error catalog: a problem's type (RFC 9457) and the field at fault, in Chinese. The server's English detail is
// kept for the browser's log; the person reads the catalog's text.

export interface FieldFault {
  field: string | null
  message: string
  [more: string]: unknown
}

export interface Problem {
  type: string
  title?: string
  status: number
  detail?: string
  errors?: FieldFault[]
  reason?: string
  [more: string]: unknown
}

const TYPES: Record<string, string> = {
  'invalid-input': '填写的内容有误，请检查标出的项目',
  'not-found': '未找到该记录，或您无权查看',
  unauthorized: '登录已失效，请重新登录',
  'second-factor-required': '请输入身份验证器中的6位动态码',
  forbidden: '您没有进行此项操作的权限',
  'illegal-transition': '该预警当前所处环节不能进行此项操作',
  'concurrency-conflict': '记录已被他人修改，请刷新后重试',
  'too-many-requests': '操作过于频繁，请稍后再试',
  'service-unavailable': '服务暂时不可用，请稍后再试',
  'database-unavailable': '数据库暂时不可用，请稍后再试',
  'payload-too-large': '文件或内容过大',
  'event-too-large': '内容过大，无法一次保存',
  'separation-of-duties': '不能审核自己提交的事项（岗位分离）',
  'already-authorized': '已有生效的授权',
  'indicator-over-allocated': '分配金额超过指标可用额度',
  'refund-exceeds-payment': '退款金额超过原支付金额',
  'divisions-missing': '尚有主管处（室）未报月报，不能汇总',
  gone: '该内容已不可用',
  'internal-error': '系统内部错误，请联系信息中心',
  'network-error': '无法连接服务器，请检查网络',
}

const REASONS: Record<string, string> = {
  password_change_required: '请先修改一次性密码',
  second_factor_required: '请先绑定身份验证器',
  csrf_token_missing: '页面已过期，请刷新后重试',
  // Why a session ended (the gateway's ENDED_BECAUSE).
  idle: '长时间未操作，登录已失效，请重新登录',
  signed_out: '您已退出登录，请重新登录',
  password_changed: '密码已修改，请使用新密码重新登录',
  account_changed: '您的权限已变更，请重新登录',
  account_revoked: '您的账号已被注销',
  locked: '账号已锁定，请稍后再试或联系管理员',
  second_factor_reset: '身份验证器已被重置，请重新登录',
  second_factor_changed: '已绑定新的身份验证器，请重新登录',
  ended: '登录已失效，请重新登录',
  expired: '登录已超时，请重新登录',
}

// Fields of the forms, by the last part of their path (body.findings → findings).
const FIELDS: Record<string, string> = {
  username: '用户名',
  password: '密码',
  code: '动态码',
  current_password: '当前密码',
  new_password: '新密码',
  current_code: '原验证器动态码',
  file: '文件',
  id_number: '身份证号',
  month: '月份',
  analysis: '问题及建议',
  opinion: '意见',
  decision: '办理意见',
  rollup_date: '日期',
  amount: '金额',
  name: '姓名',
  title: '职务',
  phone: '联系电话',
  roles: '权限',
  division: '处（室）',
  remarks: '备注',
  subject: '系统账号',
  purpose: '用途',
  recipient: '接收单位',
  reason: '原因',
  date: '日期',
  action: '处理环节',
  method: '核实方式',
  findings: '基本情况描述',
  violation_type: '违规类型',
  rectification: '整改要求',
  measures: '处理措施',
  returned_amount: '退回金额',
  adjusted_amount: '调账金额',
  other_amount: '其他金额',
  expected_version: '预警版本',
  as_of: '截至日期',
  limit: '每页条数',
  cursor: '分页位置',
  fiscal_year: '年度',
  org_unit: '区划',
  owner_division: '主管处（室）',
  level: '级别',
  raised_from: '预警开始时间',
  raised_to: '预警结束时间',
}

export function typeName(problem: Pick<Problem, 'type'>): string {
  return problem.type.split('/').pop() ?? problem.type
}

export function fieldName(path: string | null | undefined): string {
  if (!path) return ''
  const last = path.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? path
  return FIELDS[last] ?? last
}

export function problemText(problem: Problem): string {
  const reason = problem.reason ? REASONS[problem.reason] : undefined
  if (reason) return reason
  return TYPES[typeName(problem)] ?? `操作未完成（${problem.status}）`
}

// One line per field at fault, e.g. "违规类型：填写有误" (a field with several faults once).
export function faultTexts(problem: Problem): string[] {
  return [...new Set((problem.errors ?? []).map((f) => `${fieldName(f.field) || '内容'}：填写有误`))]
}

export function describe(problem: Problem): string {
  const faults = faultTexts(problem)
  return faults.length ? `${problemText(problem)}（${faults.join('；')}）` : problemText(problem)
}
