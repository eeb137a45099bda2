/** The Administration tab's own navigation: API Key Manager and Provisioning Manager. */
import { html, type SafeHtml } from './layout.js'

export function administrationNav(active: 'keys' | 'provisioning'): SafeHtml {
  return html`<nav class="sub"><a href="/console/administration/api-keys" class="${active === 'keys' ? 'active' : ''}">API Key Manager</a><a href="/console/administration/provisioning" class="${active === 'provisioning' ? 'active' : ''}">Provisioning Manager</a></nav>`
}
