import { createRouter, createWebHistory } from 'vue-router'
import { loadMe, session } from './lib/session'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    { path: '/password', component: () => import('./views/PasswordView.vue'), meta: { bare: true } },
    { path: '/second-factor', component: () => import('./views/SecondFactorView.vue'), meta: { bare: true } },
    { path: '/alerts/:id/print', component: () => import('./views/AlertPrintView.vue'), meta: { bare: true } },
    {
      path: '/',
      component: () => import('./views/ShellView.vue'),
      children: [
        { path: '', component: () => import('./views/DashboardView.vue'), meta: { title: '监控大屏' } },
        { path: 'todo', component: () => import('./views/TodoView.vue'), meta: { title: '待办' } },
        { path: 'alerts', component: () => import('./views/AlertsView.vue'), meta: { title: '预警' } },
        { path: 'alerts/:id', component: () => import('./views/AlertDetailView.vue'), meta: { title: '预警详情' } },
        { path: 'ledger', component: () => import('./views/LedgerView.vue'), meta: { title: '总台账' } },
        { path: 'ledger/:id', component: () => import('./views/IndicatorView.vue'), meta: { title: '指标详情' } },
        { path: 'payments', component: () => import('./views/PaymentsView.vue'), meta: { title: '支付明细' } },
        { path: 'reports', component: () => import('./views/ReportsView.vue'), meta: { title: '月报' } },
        { path: 'reports/:id', component: () => import('./views/ReportDetailView.vue'), meta: { title: '月报详情' } },
        { path: 'rollups', component: () => import('./views/RollupsView.vue'), meta: { title: '日报' } },
        { path: 'exchange', component: () => import('./views/ExchangeView.vue'), meta: { title: '数据交换' } },
        { path: 'performance', component: () => import('./views/PerformanceView.vue'), meta: { title: '绩效管理' } },
        { path: 'rules', component: () => import('./views/RulesView.vue'), meta: { title: '预警规则' } },
        { path: 'applications', component: () => import('./views/ApplicationsView.vue'), meta: { title: '权限申请' } },
        { path: 'exports', component: () => import('./views/ExportsView.vue'), meta: { title: '数据导出' } },
        { path: 'admin', component: () => import('./views/AdminView.vue'), meta: { title: '管理' } },
        { path: 'registry', component: () => import('./views/RegistryView.vue'), meta: { title: '名单' } },
      ],
    },
    { path: '/:rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { public: true } },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.me) await loadMe()
  if (!session.me) return { path: '/login', query: { next: to.fullPath } }
  if (session.me.password_change_required && to.path !== '/password') return { path: '/password' }
  if (session.me.second_factor_required && !session.me.password_change_required && to.path !== '/second-factor') {
    return { path: '/second-factor' }
  }
  return true
})
