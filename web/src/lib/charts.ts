// ECharts with only the pieces the console draws (bars, lines, an indicator's Sankey flow), in their own chunk.
import * as echarts from 'echarts/core'
import { BarChart, LineChart, SankeyChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, MarkLineComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, SankeyChart, GridComponent, LegendComponent, TooltipComponent, MarkLineComponent, CanvasRenderer])

export { echarts }
