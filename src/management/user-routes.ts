/** Management API: the User Manager (users and service accounts). */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { principalName } from '../auth/authenticator.js'
import { deleteServiceAccount } from '../directory/deletions.js'
import { resetPassword } from '../directory/password-reset.js'
import { changeUserStatus } from '../directory/user-status.js'
import { createUser, findUserById, MAX_PASSWORD, pageUsers, type UserDetails } from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { MAX_FIELD_LENGTH } from '../value-bounds.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, DestinationFilter, errors, Nullable } from './schemas.js'

const tags = ['Users']

/** The user object of the wire contract with what administrators see beside it; never a password hash. */
export const UserSchema = Type.Object({
  id: Type.String(),
  login_id: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  display_name: Type.String(),
  mobile: Nullable(Type.String()),
  employee_id: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('terminated'), Type.Literal('disabled')]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  service_account: Type.Boolean(),
  admin: Type.Boolean(),
  destination_id: Nullable(Type.String({ description: 'The provisioning destination that made the user' })),
  company_id: Nullable(Type.String()),
})

const UserQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('terminated'), Type.Literal('disabled')], {
        description: 'Only the users with this status',
      }),
    ),
    destination: DestinationFilter('Only the users this provisioning destination made (plugin_id)'),
    q: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'Search: part of the email, display name, first or last name, without case',
      }),
    ),
    email: Type.Optional(Type.String({ description: 'Only the user with this email (any case)' })),
    employee_id: Type.Optional(Type.String({ description: 'Only the users with this employee id' })),
    ...PageQuery,
  },
  { additionalProperties: false },
)

const NewUserBody = Type.Object(
  {
    email: Type.String({ description: 'Also the login ID' }),
    first_name: Type.Optional(Type.String({ maxLength: MAX_FIELD_LENGTH })),
    last_name: Type.Optional(Type.String({ maxLength: MAX_FIELD_LENGTH })),
    display_name: Type.Optional(Type.String({ maxLength: MAX_FIELD_LENGTH })),
    service_account: Type.Optional(
      Type.Boolean({ description: 'A service account signs webhooks in with its email and password' }),
    ),
    admin: Type.Optional(
      Type.Boolean({
        description:
          'A console administrator of the tenant signs in to the console with its email and password',
      }),
    ),
    password: Type.Optional(
      Type.String({
        description:
          'Required for a service account or an administrator (8 to 1024 characters); stored as scrypt',
        maxLength: MAX_PASSWORD,
      }),
    ),
  },
  { additionalProperties: false },
)

const PasswordBody = Type.Object(
  { password: Type.String({ description: '8 to 1024 characters', maxLength: MAX_PASSWORD }) },
  { additionalProperties: false },
)
const IdParams = Type.Object({ id: Type.String() })

export function userRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()
    const { database } = services

    /** The user, or 404 for an unknown id and for another tenant's user alike. */
    async function requireUser(tenantId: string, id: string): Promise<UserDetails> {
      const user = await findUserById(database.db, tenantId, id)
      if (user === null) throw new AppError('not_found', { message: 'User not found' })
      return user
    }

    api.get(
      '/users',
      {
        schema: {
          tags,
          operationId: 'listUsers',
          summary:
            'List users a page at a time (oldest first), filtered and searched, or find them by email or employee id',
          description:
            'Filters combine. The next page is in the `Link` header (absent on the last page); follow it as it is.',
          querystring: UserQuery,
          response: { 200: PagedArray(UserSchema), ...errors() },
        },
      },
      async (request, reply) => {
        const tenantId = callerOf(request).tenant.id
        const { email, employee_id, destination, status, q } = request.query
        if (email !== undefined && employee_id !== undefined)
          throw new AppError('bad_request', { message: 'Give email or employee_id, not both' })
        const page = pageRequestOf(request.query)
        const found = await pageUsers(
          database.db,
          tenantId,
          { email, employeeId: employee_id, destinationId: destination, status, search: q },
          page,
        )
        return sendPage(request, reply, found, page.limit)
      },
    )

    api.get(
      '/users/:id',
      {
        schema: {
          tags,
          operationId: 'getUser',
          summary: 'One user',
          params: IdParams,
          response: { 200: UserSchema, ...errors(404) },
        },
      },
      async (request) => requireUser(callerOf(request).tenant.id, request.params.id),
    )

    api.post(
      '/users',
      {
        schema: {
          tags,
          operationId: 'createUser',
          summary: 'Create a user, a service account or a console administrator',
          body: NewUserBody,
          response: { 201: UserSchema, ...changeErrors(409) },
        },
      },
      async (request, reply) => {
        const body = request.body
        const serviceAccount = body.service_account === true
        const admin = body.admin === true
        if (!serviceAccount && !admin && body.password !== undefined) {
          // Only accounts that sign in have a password; keeping one nothing uses would mislead.
          throw new AppError('bad_request', {
            message: 'password is only for service accounts and administrators',
          })
        }
        if ((serviceAccount || admin) && body.password === undefined) {
          throw new AppError('bad_request', {
            message: `password is a required field for ${serviceAccount ? 'a service account' : 'an administrator'}`,
          })
        }
        const user = await createUser(database, callerOf(request).tenant.id, {
          email: body.email,
          serviceAccount,
          admin,
          ...(body.first_name === undefined ? {} : { firstName: body.first_name }),
          ...(body.last_name === undefined ? {} : { lastName: body.last_name }),
          ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
          ...(body.password === undefined ? {} : { password: body.password }),
          by: { actor: principalName(callerOf(request).principal) },
        })
        return reply.code(201).send(user)
      },
    )

    api.put(
      '/users/:id/password',
      {
        schema: {
          tags,
          operationId: 'setUserPassword',
          summary: "Set a service account's password (the old one stops working at once here)",
          params: IdParams,
          body: PasswordBody,
          response: { 200: UserSchema, ...changeErrors(404) },
        },
      },
      async (request) =>
        resetPassword(services, callerOf(request).tenant.id, request.params.id, request.body.password, {
          actor: principalName(callerOf(request).principal),
        }),
    )

    api.delete(
      '/users/:id',
      {
        schema: {
          tags,
          operationId: 'deleteServiceAccount',
          summary: 'Delete a disabled service account (other users are disabled, not deleted)',
          params: IdParams,
          response: {
            200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }),
            ...changeErrors(404),
          },
        },
      },
      async (request) => deleteServiceAccount(services, callerOf(request).tenant.id, request.params.id),
    )

    for (const action of ['disable', 'enable'] as const) {
      api.post(
        `/users/:id/${action}`,
        {
          schema: {
            tags,
            operationId: `${action}User`,
            summary:
              action === 'disable'
                ? 'Disable a user: it can no longer sign in (at once here, within seconds everywhere)'
                : 'Enable a disabled user again (a user its HR system terminated is refused: only that HR system brings it back)',
            params: IdParams,
            response: { 200: UserSchema, ...changeErrors(404) },
          },
        },
        async (request) => {
          const { tenant, principal } = callerOf(request)
          return changeUserStatus(services, tenant.id, request.params.id, action, {
            actor: principalName(principal),
          })
        },
      )
    }
  }
}
