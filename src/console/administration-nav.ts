/** The Administration tab's own navigation: API Key Manager, Provisioning Manager and the audit log. */
import { html, type SafeHtml } from './layout.js'

export function administrationNav(active: 'keys' | 'provisioning' | 'audit'): SafeHtml {
  return html`<nav class="sub"><a href="/console/administration/api-keys" class="${active === 'keys' ? 'active' : ''}">API Key Manager</a><a href="/console/administration/provisioning" class="${active === 'provisioning' ? 'active' : ''}">Provisioning Manager</a><a href="/console/administration/audit" class="${active === 'audit' ? 'active' : ''}">Audit log</a></nav>`
}
