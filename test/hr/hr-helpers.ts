/** Shared steps of the HR webhook tests: calling a destination's URLs, reading users and the delivery log. */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../src/storage/database.js'
import type { UserTable } from '../../src/storage/schema.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { post, type SeededTenant } from '../helpers/test-app.js'
import { PROVISIONING } from '../helpers/webhook-routes.js'

export type Operation = 'adduser' | 'modifyuser' | 'deleteuser'

/** POSTs `body` to a destination's operation URL as `tenant`, with its API key unless `auth` says otherwise. */
export function hr(
  app: FastifyInstance,
  tenant: SeededTenant,
  pluginId: string,
  operation: Operation,
  body: unknown,
  options: { auth?: string; headers?: Record<string, string>; raw?: string; host?: string } = {},
) {
  return post(app, `${PROVISIONING}/${pluginId}/${operation}`, {
    host: options.host ?? tenant.host,
    auth: options.auth ?? `Bearer ${tenant.key}`,
    // Each call from its own address: the failure limiter must not mix into these tests.
    remoteAddress: uniqueAddress(),
    ...(options.raw === undefined ? { body } : { raw: options.raw }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  })
}

/** A fixture from test/fixtures as a fresh object. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
}

/** The tenant's users as stored (service accounts included). */
export function userRows(db: Db, tenantId: string): Promise<UserTable[]> {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute()
}

export async function userRow(db: Db, tenantId: string, userId: string): Promise<UserTable | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst()
}

/** The newest delivery log entry of the tenant. */
export async function lastDelivery(db: Db, tenantId: string) {
  return db
    .selectFrom('deliveries')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow()
}

export const USER_KEYS = [
  'created_at',
  'display_name',
  'email',
  'employee_id',
  'first_name',
  'id',
  'last_name',
  'login_id',
  'mobile',
  'status',
  'updated_at',
]
