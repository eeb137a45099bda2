/** The Identity Management tab's own navigation, and the notice of held terminations its pages show. */
import type { HeldSummary } from '../directory/held-changes.js'
import { html, type SafeHtml } from './layout.js'

export function identityNav(active: 'users' | 'holds'): SafeHtml {
  return html`<nav class="sub"><a href="/console/users" class="${active === 'users' ? 'active' : ''}">User Manager</a><a href="/console/holds" class="${active === 'holds' ? 'active' : ''}">Held terminations</a></nav>`
}

/** A warning naming each destination with held terminations, linking to where they are decided; empty when none. */
export function heldNotice(summaries: readonly HeldSummary[]): SafeHtml {
  if (summaries.length === 0) return html``
  return html`<div class="error" role="alert" id="held-notice"><strong>Terminations are held.</strong> ${summaries.map(
    (s) =>
      html`<span>${s.held} from <strong>${s.destination_name}</strong> (since ${s.oldest.slice(0, 16).replace('T', ' ')} UTC). </span>`,
  )}<a href="/console/holds">Review held terminations</a></div>`
}
