/** Management API: the Provisioning Manager (provisioning destinations with their three HR webhook URLs). */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { deleteDestination } from '../directory/deletions.js'
import {
  createDestination,
  getDestination,
  pageDestinations,
  updateDestination,
} from '../directory/destinations.js'
import { AppError } from '../errors.js'
import { DESTINATION_TYPES, HR_VENDORS, settingsSummary } from '../hr-vendors/index.js'
import type { Services } from '../services.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, errors } from './schemas.js'

const tags = ['Destinations']

/** The types the registry knows: a new HR vendor shows up here (and in the OpenAPI document) by itself. */
const DestinationType = Type.Union(
  DESTINATION_TYPES.map((type) => Type.Literal(type)),
  {
    description: DESTINATION_TYPES.map((type) => `${type}: ${HR_VENDORS[type].description}`).join('. '),
  },
)
const SETTINGS_DESCRIPTION = `Settings by type (${settingsSummary()}); secret ones read \`********\``

/** A destination as shown: `client_secret`, when set, reads `********`. */
export const DestinationSchema = Type.Object({
  plugin_id: Type.String({ description: 'Opaque and unguessable; part of the three URLs' }),
  type: DestinationType,
  name: Type.String(),
  enabled: Type.Boolean({
    description: 'A disabled destination answers 404 on its URLs and keeps its users',
  }),
  settings: Type.Record(Type.String(), Type.String(), { description: SETTINGS_DESCRIPTION }),
  has_client_secret: Type.Boolean(),
  urls: Type.Object({
    adduser: Type.String(),
    modifyuser: Type.String(),
    deleteuser: Type.String(),
    events: Type.Optional(
      Type.String({ description: 'For vendors that send every event to one URL (the one to give them)' }),
    ),
  }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})

const NewDestinationBody = Type.Object(
  {
    type: DestinationType,
    name: Type.String(),
    settings: Type.Optional(Type.Record(Type.String(), Type.String(), { description: SETTINGS_DESCRIPTION })),
  },
  { additionalProperties: false },
)

const DestinationChangeBody = Type.Object(
  {
    name: Type.Optional(Type.String()),
    settings: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description: 'Merged into the current settings; null or "" removes a setting',
      }),
    ),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const PluginParams = Type.Object({ pluginId: Type.String() })

const Deleted = Type.Object({ plugin_id: Type.String(), deleted: Type.Literal(true) })

export function destinationRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/destinations',
      {
        schema: {
          tags,
          operationId: 'listDestinations',
          summary:
            'List provisioning destinations, oldest first, a page at a time (next page in the `Link` header)',
          querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
          response: { 200: PagedArray(DestinationSchema), ...errors() },
        },
      },
      async (request, reply) => {
        const page = pageRequestOf(request.query)
        const found = await pageDestinations(services, callerOf(request).tenant, page)
        return sendPage(request, reply, found, page.limit)
      },
    )

    api.get(
      '/destinations/:pluginId',
      {
        schema: {
          tags,
          operationId: 'getDestination',
          summary: 'One destination with its three URLs',
          params: PluginParams,
          response: { 200: DestinationSchema, ...errors(404) },
        },
      },
      async (request) => getDestination(services, callerOf(request).tenant, request.params.pluginId),
    )

    api.post(
      '/destinations',
      {
        schema: {
          tags,
          operationId: 'createDestination',
          summary: 'Create a destination; the answer has the three URLs to give the HR system',
          body: NewDestinationBody,
          response: { 201: DestinationSchema, ...changeErrors() },
        },
      },
      async (request, reply) => {
        const { type, name, settings } = request.body
        const created = await createDestination(services, callerOf(request).tenant, {
          type,
          name,
          ...(settings === undefined ? {} : { settings }),
        })
        return reply.code(201).send(created)
      },
    )

    api.patch(
      '/destinations/:pluginId',
      {
        schema: {
          tags,
          operationId: 'updateDestination',
          summary: 'Rename, re-configure, enable or disable a destination',
          params: PluginParams,
          body: DestinationChangeBody,
          response: { 200: DestinationSchema, ...changeErrors(404) },
        },
      },
      async (request) => {
        const { name, settings, enabled } = request.body
        if (name === undefined && settings === undefined && enabled === undefined) {
          throw new AppError('bad_request', { message: 'Give name, settings or enabled' })
        }
        return updateDestination(services, callerOf(request).tenant, request.params.pluginId, {
          ...(name === undefined ? {} : { name }),
          ...(settings === undefined ? {} : { settings }),
          ...(enabled === undefined ? {} : { enabled }),
        })
      },
    )

    for (const action of ['enable', 'disable'] as const) {
      api.post(
        `/destinations/:pluginId/${action}`,
        {
          schema: {
            tags,
            operationId: `${action}Destination`,
            summary:
              action === 'enable'
                ? 'Accept calls on the URLs again'
                : 'Answer 404 on the URLs (the users are kept)',
            params: PluginParams,
            response: { 200: DestinationSchema, ...changeErrors(404) },
          },
        },
        async (request) =>
          updateDestination(services, callerOf(request).tenant, request.params.pluginId, {
            enabled: action === 'enable',
          }),
      )
    }

    api.delete(
      '/destinations/:pluginId',
      {
        schema: {
          tags,
          operationId: 'deleteDestination',
          summary: 'Delete a disabled destination that has no users (one with users can only stay disabled)',
          params: PluginParams,
          response: { 200: Deleted, ...changeErrors(404) },
        },
      },
      async (request) => deleteDestination(services, callerOf(request).tenant, request.params.pluginId),
    )
  }
}
