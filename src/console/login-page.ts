/** `GET|POST /console/login` and `POST /console/logout`: administrator sign-in and sign-out. */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { recordAudit } from '../audit/audit-log.js'
import { publicOrigin } from '../config.js'
import type { Services } from '../services.js'
import { tenantNameFromHost } from '../tenancy/host.js'
import { field, sendPage } from './forms.js'
import { html, type SafeHtml } from './layout.js'
import { createSession, endSession, SESSION_COOKIE, SESSION_TTL_MS } from './session.js'

/** One message for every failure, so nobody learns which tenants, emails or accounts exist. */
export const SIGN_IN_FAILED = 'Sign-in failed: check your email and password.'
/** For a blocked address and for a slowed-down account alike: the page tells neither apart. */
export const TOO_MANY_ATTEMPTS = 'Too many failed sign-in attempts. Try again in a minute.'

/**
 * On a host that names no tenant (`localhost:8080`), nobody can sign in: the page says which address to
 * open instead. A host that names an unknown tenant gets the plain form, so nobody learns which exist.
 */
function tenantHint(services: Services, request: FastifyRequest): SafeHtml | null {
  const name = tenantNameFromHost(
    request.headers.host,
    services.config.baseDomain,
    services.config.defaultTenant,
  )
  if (name !== null) return null
  const example = `${publicOrigin(services.config, '{tenant}')}/`
  return html`<div class="notice" role="status" id="tenant-hint">This address names no tenant. Open your tenant's own address, <code>${example}</code> with your tenant's name in place of <code>{tenant}</code> (the first start makes <code>${example.replace('{tenant}', 'demo')}</code>).</div>`
}

function loginPage(
  reply: FastifyReply,
  status: number,
  email: string,
  error?: string,
  hint: SafeHtml | null = null,
): FastifyReply {
  return sendPage(reply, status, {
    title: 'Sign in',
    error,
    body: html`<section class="card login">
<h1>Sign in</h1>
${hint ?? ''}
<p class="muted">Tenant administrators sign in with their email and password.</p>
<form class="stack" method="post" action="/console/login">
<label for="email">Email</label><input id="email" type="email" name="email" value="${email}" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
</section>`,
  })
}

/**
 * Cookie options: HttpOnly, SameSite=Strict, Secure over https. The path is the whole site: the
 * Management API accepts the session too (with its CSRF token), see management/guard.ts.
 */
export function cookieOptions(request: FastifyRequest) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: request.protocol === 'https',
  }
}

/** A sign-in or failed sign-in in the tenant's audit log: who tried (the email typed), never the password. */
async function auditSignIn(
  services: Services,
  request: FastifyRequest,
  tenantId: string,
  actor: string,
  action: 'signIn' | 'signInFailed',
  email: string,
): Promise<void> {
  await services.database.transaction((trx) =>
    recordAudit(trx, {
      tenantId,
      actor,
      action,
      target: email,
      clientAddress: request.ip,
      requestId: request.id,
    }),
  )
}

export function registerLoginRoutes(app: FastifyInstance, services: Services): void {
  app.get('/login', async (request, reply) => {
    if (request.consoleSession !== null) return reply.redirect('/console/administration', 303)
    return loginPage(reply, 200, '', undefined, tenantHint(services, request))
  })

  app.post('/login', { config: { checksCredentials: true } }, async (request, reply) => {
    const email = field(request.body, 'email')
    const tenant = request.consoleTenant
    // Under the same failure limits as the webhooks: a slot before the KDF, given back on success.
    const outcome = await services.authenticator.verifyAdministrator(
      tenant?.id ?? null,
      email,
      field(request.body, 'password'),
      request.ip,
    )
    if (!outcome.ok || tenant === null) {
      const limited = !outcome.ok && outcome.limited
      // A refused check is recorded; a call the limiter refused before any check is only counted.
      if (tenant !== null && !limited)
        await auditSignIn(services, request, tenant.id, 'anonymous', 'signInFailed', email)
      services.refusedCalls.count('console', limited ? 'rate_limited' : 'bad_credentials')
      const hint = tenantHint(services, request)
      return limited
        ? loginPage(reply, 429, '', TOO_MANY_ATTEMPTS, hint)
        : loginPage(reply, 401, email, SIGN_IN_FAILED, hint)
    }
    const userId = outcome.principal
    const token = await createSession(services.database, tenant.id, userId)
    await auditSignIn(services, request, tenant.id, `console_admin:${userId}`, 'signIn', email)
    reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions(request), maxAge: SESSION_TTL_MS / 1000 })
    return reply.redirect('/console/administration', 303)
  })

  app.post('/logout', async (request, reply) => {
    const session = request.consoleSession
    if (session !== null) await endSession(services.database, session.token)
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request))
    return reply.redirect('/console/login', 303)
  })
}
