// The import report's faults in Chinese: the payments service names what is wrong with a row in English (its
// domain's words); the row and column are shown as the file has them.

export interface ImportFault { seq: number; sheet: string | null; row: number | null; column: string | null; message: string }

const ID_COLUMNS = new Set(['身份证号', '身份证号码', '证件号码', '公民身份号码'])

const TEXTS: [RegExp, (match: RegExpMatchArray) => string][] = [
  [/required column is missing/, () => '表头缺少此必需列'],
  [/the same person as line (\d+)/, (m) => `与第 ${m[1]} 行为同一人`],
  [/a value is required/, () => '此项必填，不能为空'],
  [/unknown org unit/, () => '区划不正确（应为本市的区或开发区）'],
  [/unknown status/, () => '贫困状态不正确（应为未脱贫、已脱贫或返贫监测）'],
  [/expected a year/, () => '年度不正确'],
]

export function faultText(fault: Pick<ImportFault, 'column' | 'message'>): string {
  for (const [pattern, text] of TEXTS) {
    const match = fault.message.match(pattern)
    if (match) return text(match)
  }
  if (fault.column && ID_COLUMNS.has(fault.column)) return '身份证号不正确（位数、出生日期或校验位有误）'
  return fault.message
}
