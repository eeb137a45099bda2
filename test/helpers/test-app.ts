/** A whole service over a fresh database, driven with app.inject, plus quick ways to set up a tenant. */
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createApiKey } from '../../src/auth/api-keys.js'
import { type Config, loadConfig } from '../../src/config.js'
import { createUser } from '../../src/directory/users.js'
import { createServices, type Services } from '../../src/services.js'
import type { Dialect } from '../../src/storage/database.js'
import { addRequester } from '../../src/support/requesters.js'
import { createTenant, type Tenant } from '../../src/tenancy/tenants.js'
import { freshDatabase, type TestDatabase } from './databases.js'

export const TEST_SECRET_KEY = 'test-secret-key-not-for-production'
export const SERVICE_PASSWORD = 'correct horse battery staple'

export interface TestApp {
  app: FastifyInstance
  services: Services
  testDb: TestDatabase
  close(): Promise<void>
}

export async function startTestApp(dialect: Dialect, overrides: Partial<Config> = {}): Promise<TestApp> {
  const testDb = await freshDatabase(dialect)
  const config = loadConfig({}, { databaseUrl: testDb.url, secretKey: () => TEST_SECRET_KEY, ...overrides })
  const services = createServices(config, testDb.database)
  const app = await buildApp(services, { logger: false })
  await app.ready()
  return {
    app,
    services,
    testDb,
    async close() {
      await app.close()
      await testDb.dispose()
    },
  }
}

export interface SeededTenant {
  tenant: Tenant
  key: string
  keyId: string
  serviceEmail: string
  basic: string
  requester: string
  host: string
}

/** A tenant with a Management API key, a service account and one support requester. */
export async function seedTenant(services: Services, name: string): Promise<SeededTenant> {
  const tenant = await createTenant(services.database, name)
  const key = await createApiKey(services.database, tenant.id, {
    name: 'test',
    management: true,
    expiresInMs: null,
  })
  const serviceEmail = `svc@${name}.example.com`
  await createUser(services.database, tenant.id, {
    email: serviceEmail,
    serviceAccount: true,
    password: SERVICE_PASSWORD,
  })
  const requester = `john.doe@${name}.example.com`
  await addRequester(services.database, tenant.id, requester, 'John Doe')
  return {
    tenant,
    key: key.key,
    keyId: key.id,
    serviceEmail,
    basic: `Basic ${Buffer.from(`${serviceEmail}:${SERVICE_PASSWORD}`).toString('base64')}`,
    requester,
    host: `${name}.localhost`,
  }
}

export const TICKETS = '/v5.0/mgmt/api/v1.0/webhooks/helpdesk'

/** POST a JSON body (or a raw string) to a path as a tenant. */
export function post(
  app: FastifyInstance,
  path: string,
  options: {
    host: string
    auth?: string
    body?: unknown
    raw?: string
    headers?: Record<string, string>
    /** The client address (the failure limiter counts per address); 127.0.0.1 when absent. */
    remoteAddress?: string
  },
) {
  const headers: Record<string, string> = {
    host: options.host,
    'content-type': 'application/json',
    ...options.headers,
  }
  if (options.auth !== undefined) headers.authorization = options.auth
  const request: InjectOptions = {
    method: 'POST',
    url: path,
    headers,
    payload: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  }
  return app.inject(request)
}

/**
 * The same service with its real logger configuration at its most talkative (trace), written to
 * memory: what a test needs to prove that no secret is ever logged.
 *
 * @example const { app, lines } = await buildLoggedApp(t.services)
 */
export async function buildLoggedApp(services: Services): Promise<{ app: FastifyInstance; lines: string[] }> {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'))
      done()
    },
  })
  const app = await buildApp(services, { logger: { level: 'trace', stream } })
  await app.ready()
  return { app, lines }
}
