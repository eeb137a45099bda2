/** ServiceNow and Generic TICKETS bodies turned into one CreateTicket command. */
import { toPriority } from '../support/priority.js'
import { type CreateTicket, fieldLine } from '../support/tickets.js'
import { boundedText, requireStorable } from '../value-bounds.js'
import { isMissing, type JsonObject, optionalString, requireStrings } from './fields.js'

/**
 * The first comment: the description, then one `field: value` line for every other field sent,
 * in the order sent, leaving out the subject field, `description` and `requester_email`.
 */
export function firstComment(
  body: JsonObject,
  subjectField: string,
  description: string | null | undefined,
  subject: string,
): string {
  const lines = Object.entries(body)
    .filter(([field]) => field !== subjectField && field !== 'description' && field !== 'requester_email')
    .map(([field, value]) => fieldLine(field, value))
  const parts = description ? [description, ...lines] : lines
  // A ticket needs a body; with nothing else sent, the title says it all.
  return parts.length > 0 ? parts.join('\n') : subject
}

/**
 * ServiceNow: `requester_email`, `short_description` required; repeats found by `sys_id`, else
 * `number` (each at most 255 characters: they are indexed). After the required fields, the whole
 * body must be storable (no NUL, no number out of range, not nested too deeply).
 */
export function fromServiceNow(body: JsonObject): CreateTicket {
  const { requester_email, short_description } = requireStrings(body, [
    'requester_email',
    'short_description',
  ])
  const description = optionalString(body, 'description')
  // Before any value is turned into text: a body nested thousands deep would overflow JSON.stringify.
  requireStorable(body)
  const sysId = isMissing(body.sys_id) ? null : boundedText('sys_id', scalarText(body.sys_id))
  const number = isMissing(body.number) ? null : boundedText('number', scalarText(body.number))
  const dedupeKey =
    sysId !== null ? `servicenow:sys_id:${sysId}` : number !== null ? `servicenow:number:${number}` : null
  return {
    source: 'servicenow',
    subject: short_description,
    requesterEmail: requester_email,
    priority: toPriority(body.priority),
    firstComment: firstComment(body, 'short_description', description, short_description),
    externalId: sysId ?? number,
    dedupeKey,
    fields: body,
  }
}

/** Generic: `title`, `description`, `requester_email` required, in that order; then the whole body must be storable. */
export function fromGenericTicket(body: JsonObject): CreateTicket {
  const { title, description, requester_email } = requireStrings(body, [
    'title',
    'description',
    'requester_email',
  ])
  requireStorable(body)
  return {
    source: 'generic',
    subject: title,
    requesterEmail: requester_email,
    priority: toPriority(body.priority),
    firstComment: firstComment(body, 'title', description, title),
    externalId: null,
    dedupeKey: null,
    fields: body,
  }
}

function scalarText(value: unknown): string {
  return typeof value === 'string' ? value.trim() : JSON.stringify(value)
}
