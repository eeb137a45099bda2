/** What the Activity tab says beside an HR delivery that changed nothing on purpose: a dry run, or a held termination. */
import type { Delivery } from '../deliveries/deliveries.js'
import { html, type SafeHtml } from './layout.js'

/** A badge and the log's reason for a dry run (what it would have changed) or a held termination; empty otherwise. */
export function deliveryNote(delivery: Pick<Delivery, 'reason' | 'status'>): SafeHtml {
  const reason = delivery.reason ?? ''
  if (reason.startsWith('dry run'))
    return html`<span class="badge" data-dry-run>dry run</span> <span class="muted">${reason.replace(/^dry run, nothing changed: /, '')}</span>`
  if (delivery.status === 202 && reason.startsWith('held'))
    return html`<span class="badge bad" data-held>held</span> <a href="/console/holds">review</a>`
  return html``
}
