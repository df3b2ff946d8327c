// The platform's enum values and codes as the seed names them (长春市财政扶贫资金动态监控工作规程).

export const LEVELS: Record<string, string> = {
  red: '红灯',
  yellow: '黄灯',
  yellow_bell: '黄色警铃',
  green: '绿灯',
}

// The three warning levels an alert rings at (green is where a verified alert ends).
export const ALERT_LEVELS: Record<string, string> = { red: LEVELS.red, yellow: LEVELS.yellow, yellow_bell: LEVELS.yellow_bell }

export const ALERT_STATUSES: Record<string, string> = {
  open: '待处理',
  green: '已转绿灯',
  cleared: '已解除',
}

export const ACTIONS: Record<string, string> = {
  clear: '解除',
  escalate: '升级',
  verify_normal: '核实为正常',
  confirm_violation: '确认违规',
  record_correction: '登记纠正',
  take_measure: '采取处理措施',
  reopen: '重新打开',
  concur: '监督局会同核实',
}

export const WAITING_FOR: Record<string, string> = {
  yellow_bell: '等待按期完成工作',
  yellow: '等待核实',
  red: '等待纠正',
}

export const ORG_UNITS: Record<string, string> = {
  '220100': '长春市本级',
  '220102': '南关区',
  '220103': '宽城区',
  '220104': '朝阳区',
  '220105': '二道区',
  '220106': '绿园区',
  '220112': '双阳区',
  '220113': '九台区',
  '220171': '长春经济技术开发区',
  '220172': '长春净月高新技术产业开发区',
  '220173': '长春高新技术产业开发区',
  '220174': '长春汽车经济技术开发区',
}

// The districts and 开发区 the dashboard shows a light for (the city's own level is not a district).
export const DISTRICTS = Object.keys(ORG_UNITS).filter((code) => code !== '220100')

export const DIVISIONS: Record<string, string> = {
  treasury: '国库处',
  budget: '预算处',
  agriculture: '农业处',
  social_security: '社会保障处',
  education: '教科文处',
  economic: '经济建设处',
  supervision: '监督局',
  info_center: '信息中心',
  poverty_office: '局脱贫办',
}

export const ROLES: Record<string, string> = {
  admin: '系统管理员',
  treasury: '国库处',
  budget: '预算处',
  division: '主管处（室）',
  supervision: '监督局',
  info_center: '信息中心',
  poverty_office: '局脱贫办',
  district: '区财政局',
}

export const FUND_LEVELS: Record<string, string> = {
  central: '中央',
  province: '省级',
  city: '市级',
  district: '区级',
}

// 核实方式, 违规类型 and 处理措施 of the 处理单 (national fields).
export const METHODS = ['电话核实', '调阅材料', '实地核查', '系统比对', '其他']
export const VIOLATION_TYPES = [
  '预算下达不及时', '滞留闲置', '挤占挪用', '扩大开支范围、提高开支标准', '划转至财政专户、单位或乡镇实有资金账户',
  '以拨代支、虚列支出', '虚报、冒领、套取', '违规发放工资、奖金、津补贴', '监控平台数据不完整、不真实', '其他',
]
export const MEASURES = ['收回资金', '暂缓拨付', '通报', '约谈', '移交监督局', '移交有关部门']

export function nameOf(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—'
  return table[code] ?? code
}

export const REGISTRIES: Record<string, string> = {
  poor_population: '建档立卡贫困人口',
  public_employees: '财政供养人员',
}

export const POVERTY_STATUSES: Record<string, string> = {
  not_lifted: '未脱贫',
  lifted: '已脱贫',
  monitored: '防止返贫监测对象',
}

export const SETTLEMENT: Record<string, string> = {
  transfer: '转账',
  cash: '现金',
  check: '支票',
  official_card: '公务卡',
  other: '其他',
}

// The facts an alert shows (规则可引用的事实), by their path's two parts: the subject, then the figure.
const FACT_SUBJECTS: Record<string, string> = {
  payment: '支付', indicator: '指标', payee: '收款人', district: '区', window: '统计期', report: '绩效报告',
  month: '月份', progress: '进度', event: '事项', params: '规则参数',
}
const FACT_FIGURES: Record<string, string> = {
  amount: '金额', allocated: '已分配', paid: '已支付', paid_before: '本次支付前已支付', refunded: '已退回',
  available_before: '支付前可用余额', available_after: '支付后可用余额', overdrawn: '超出金额', own: '本级金额',
  spent: '已支出', payment_progress: '支付进度', allocation_progress: '分配进度', fiscal_year: '年度',
  org_unit: '区划', owner_division: '主管处（室）', indicator_id: '指标编号', payment_id: '支付编号',
  payee_name: '收款人名称', payee_account: '收款账号', settlement_method: '结算方式', purpose: '用途',
  paid_at: '支付时间', count: '笔数', total: '合计', period: '期间', time: '序时进度', name: '名称',
  doc_no: '指标文号', fund_name: '资金名称', registered_name: '登记姓名', on_poor_list: '在建档立卡名单',
  public_employee: '财政供养人员', employer: '工作单位', counts_from: '起算日', due_day: '截止日',
}

export function factName(path: string): string {
  const [subject, ...rest] = path.split('.')
  const figure = rest.join('.')
  if (!figure) return FACT_FIGURES[subject] ?? path
  const head = FACT_SUBJECTS[subject]
  const tail = FACT_FIGURES[figure]
  return head && tail ? `${head}${tail}` : path
}
