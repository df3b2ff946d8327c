import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/dist/locale/zh-cn.mjs'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { whenSignedOut } from './lib/api'
import { rowKeys } from './lib/keyboard'
import { session } from './lib/session'

whenSignedOut((message) => {
  session.me = null
  if (router.currentRoute.value.path !== '/login') {
    router.replace({ path: '/login', query: { message, next: router.currentRoute.value.fullPath } })
  }
})

createApp(App).use(ElementPlus, { locale: zhCn }).use(router).directive('row-keys', rowKeys).mount('#app')
