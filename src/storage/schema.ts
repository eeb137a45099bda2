/** The database schema as Kysely sees it: one interface a table, every table keyed by tenant. */
/** Times are ISO-8601 UTC strings in both databases, so they sort as text and read the same everywhere. */
export type Timestamp = string

export interface TenantTable {
  id: string
  name: string
  support_backend: string
  /** JSON; secret values are encrypted (see src/secrets.ts). */
  support_settings: string
  next_ticket_number: number
  created_at: Timestamp
}

export interface ApiKeyTable {
  id: string
  tenant_id: string
  name: string
  /** The first characters of the key, shown in lists so an administrator can tell keys apart. */
  prefix: string
  /** SHA-256 of the whole key, hex; the key itself is never stored. */
  key_hash: string
  management: number
  created_at: Timestamp
  expires_at: Timestamp | null
  revoked_at: Timestamp | null
}

export interface UserTable {
  id: string
  tenant_id: string
  login_id: string
  /** Lower-cased login id: login ids are unique per tenant without case. */
  login_key: string
  email: string
  /** Lower-cased email: emails are unique per tenant without case. */
  email_key: string
  first_name: string
  last_name: string
  display_name: string
  mobile: string | null
  status: string
  is_service_account: number
  is_admin: number
  password_hash: string | null
  destination_id: string | null
  company_id: string | null
  employee_id: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface RequesterTable {
  tenant_id: string
  email_key: string
  email: string
  name: string | null
  created_at: Timestamp
}

export interface TicketTable {
  id: string
  tenant_id: string
  /** Null only while a ticket is being created in an external support system. */
  number: number | null
  subject: string
  priority: string
  requester_email: string
  external_id: string | null
  source: string
  /** Unique per tenant: ServiceNow's sys_id (or number), so a repeated incident finds its ticket. */
  dedupe_key: string | null
  /** JSON of the fields last received for this ticket, to tell what changed on a repeat. */
  source_fields: string
  backend: string
  created_at: Timestamp
  updated_at: Timestamp
}

export interface TicketCommentTable {
  /** Time-ordered (see newId), so comments read back in the order they were written. */
  id: string
  tenant_id: string
  ticket_id: string
  body: string
  created_at: Timestamp
}

export interface IdempotencyKeyTable {
  tenant_id: string
  key: string
  request_hash: string
  status_code: number
  response_body: string
  created_at: Timestamp
}

export interface DeliveryTable {
  id: string
  tenant_id: string
  endpoint: string
  destination_id: string | null
  principal: string | null
  status_code: number
  error: string | null
  /** Why it failed, for the administrator; never a secret. */
  reason: string | null
  ticket_number: number | null
  user_id: string | null
  request_id: string
  idempotency_key: string | null
  duration_ms: number
  /** The JSON body as received, so a failed delivery can be replayed. */
  request_body: string | null
  /** Set when request_body is not the body as received (too deep, not JSON, too large): what was left out. */
  request_body_note: string | null
  replay_of: string | null
  created_at: Timestamp
}

export interface DestinationTable {
  id: string
  tenant_id: string
  type: string
  name: string
  settings: string
  enabled: number
  created_at: Timestamp
  updated_at: Timestamp
}

export interface SessionTable {
  id_hash: string
  tenant_id: string
  user_id: string
  created_at: Timestamp
  expires_at: Timestamp
}

/** One row that /readyz writes (at most once a second) to prove the database takes writes. */
export interface ReadinessProbeTable {
  id: string
  at: Timestamp
  /** Only for the probe that checks the database can still grow (SQLite, after a failed write). */
  filler: string | null
}

/** Webhook calls refused for bad credentials, counted per tenant, hour and endpoint (never in the delivery log). */
export interface RefusedCallTable {
  tenant_id: string
  /** The start of the hour, ISO-8601 UTC. */
  hour: Timestamp
  endpoint: string
  refused: number
}

/** A termination an HR webhook applied: the mass-termination safeguard counts these per destination and rolling hour. */
export interface HrTerminationTable {
  id: string
  tenant_id: string
  destination_id: string
  user_id: string
  created_at: Timestamp
}

/** A termination the safeguard held: applied only when an administrator approves the destination's held changes. */
export interface HeldChangeTable {
  /** Time-ordered: approval applies them in this order. */
  id: string
  tenant_id: string
  destination_id: string
  user_id: string
  company_id: string
  employee_id: string
  /** The delivery-log entry of the call that was held. */
  delivery_id: string | null
  /** Why it was held (over the limit, or behind other held changes). */
  reason: string
  created_at: Timestamp
}

/** One change to a user: what, by whom (an HR destination and its delivery, an administrator, a key, the CLI), before → after. */
export interface UserHistoryTable {
  /** Time-ordered: a user's history reads back in the order it happened. */
  id: string
  tenant_id: string
  user_id: string
  /** created, updated, terminated, reactivated, enabled, disabled, password_changed. */
  action: string
  /** `destination:<plugin_id>`, `api_key:<id>`, `console_admin:<user id>`, `cli`, or `system`. */
  actor: string
  /** For a change made by an HR webhook: its delivery-log entry. */
  delivery_id: string | null
  /** JSON `{"field":{"before":…,"after":…}}`; never a password or its hash. */
  changes: string
  created_at: Timestamp
}

/** One administrator's change (or sign-in): append-only, never updated or deleted through the product. */
export interface AuditLogTable {
  id: string
  tenant_id: string
  actor: string
  action: string
  /** What it acted on: an id, a plugin_id, an email. */
  target: string | null
  /** JSON of what was asked, secret-looking fields masked. */
  details: string | null
  client_address: string | null
  request_id: string | null
  created_at: Timestamp
}

export interface Schema {
  tenants: TenantTable
  api_keys: ApiKeyTable
  users: UserTable
  requesters: RequesterTable
  tickets: TicketTable
  ticket_comments: TicketCommentTable
  idempotency_keys: IdempotencyKeyTable
  deliveries: DeliveryTable
  destinations: DestinationTable
  sessions: SessionTable
  readiness_probe: ReadinessProbeTable
  refused_calls: RefusedCallTable
  hr_terminations: HrTerminationTable
  held_changes: HeldChangeTable
  user_history: UserHistoryTable
  audit_log: AuditLogTable
}
