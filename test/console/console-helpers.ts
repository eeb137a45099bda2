/** Driving the console with app.inject: sign in, read the CSRF token, post forms like a browser. */
import type { FastifyInstance } from 'fastify'
import { createUser } from '../../src/directory/users.js'
import type { Services } from '../../src/services.js'
import type { Tenant } from '../../src/tenancy/tenants.js'

export const ADMIN_PASSWORD = 'admin password 123'

/** Adds an administrator who signs in to the console; returns its email. */
export async function addAdmin(
  services: Services,
  tenant: Tenant,
  email = `admin@${tenant.name}.example.com`,
) {
  const admin = await createUser(services.database, tenant.id, {
    email,
    admin: true,
    password: ADMIN_PASSWORD,
  })
  return { email, id: admin.id }
}

export interface Form {
  host: string
  cookie?: string
  fields?: Record<string, string>
  headers?: Record<string, string>
  remoteAddress?: string
}

/** POSTs an urlencoded form, as a browser does. */
export function postForm(app: FastifyInstance, url: string, form: Form) {
  const headers: Record<string, string> = {
    host: form.host,
    'content-type': 'application/x-www-form-urlencoded',
    ...form.headers,
  }
  if (form.cookie !== undefined) headers.cookie = form.cookie
  return app.inject({
    method: 'POST',
    url,
    headers,
    payload: new URLSearchParams(form.fields ?? {}).toString(),
    ...(form.remoteAddress === undefined ? {} : { remoteAddress: form.remoteAddress }),
  })
}

export function getPage(app: FastifyInstance, url: string, host: string, cookie?: string) {
  return app.inject({ method: 'GET', url, headers: { host, ...(cookie === undefined ? {} : { cookie }) } })
}

/** The `name=value` part of the session cookie set by a response. */
export function sessionCookie(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie.join('\n') : (setCookie ?? '')
  const match = /oc_session=([^;]*)/.exec(header)
  if (match === null) throw new Error('no oc_session cookie was set')
  return `oc_session=${match[1]}`
}

/** The CSRF token carried by the forms of a page. */
export function csrfOf(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body)
  if (match === null) throw new Error('no CSRF field on the page')
  return match[1] ?? ''
}

/** Signs in and returns the session cookie and the CSRF token of its forms. */
export async function signIn(app: FastifyInstance, host: string, email: string, password = ADMIN_PASSWORD) {
  const response = await postForm(app, '/console/login', { host, fields: { email, password } })
  if (response.statusCode !== 303) throw new Error(`sign-in failed: ${response.statusCode}`)
  const cookie = sessionCookie(response.headers['set-cookie'])
  const page = await getPage(app, '/console/administration/api-keys', host, cookie)
  return { cookie, csrf: csrfOf(page.body) }
}
