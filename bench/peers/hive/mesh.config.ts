// GraphQL Mesh v1 compose config: three REST providers (contact-gateway's sandbox by default)
// exposed through the JSON Schema source handler (@omnigraph/json-schema).
// Credentials are NOT baked into the supergraph: headers use {env.*}
// interpolation, resolved at request time by the gateway (see run-gateway.sh).
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadJSONSchemaSubgraph } from '@omnigraph/json-schema';

const PROVIDERS = process.env.PROVIDERS_URL ?? "http://127.0.0.1:8100";

export const composeConfig = defineConfig({
  output: 'supergraph.graphql',
  subgraphs: [
    {
      sourceHandler: loadJSONSchemaSubgraph('Adaptix', {
        endpoint: `${PROVIDERS}/adaptix/api`,
        operationHeaders: { Authorization: 'Basic {env.ADAPTIX_BASIC_AUTH}' },
        operations: [
          {
            type: 'Query',
            field: 'adaptixContactsByEmail',
            path: '/contacts?search=email:{args.email}&limit=30',
            method: 'GET',
            argTypeMap: { email: { type: 'string' } },
            requiredArgs: ['email'],
            responseSchema: './schemas/adaptix.json#/definitions/AdaptixContactList',
          },
          {
            type: 'Query',
            field: 'adaptixContact',
            path: '/contacts/{args.id}',
            method: 'GET',
            argTypeMap: { id: { type: 'integer' } },
            requiredArgs: ['id'],
            responseSchema: './schemas/adaptix.json#/definitions/AdaptixContactResponse',
          },
        ],
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph('Trustmary', {
        endpoint: `${PROVIDERS}/trustmary/v1`,
        operationHeaders: { Authorization: 'Apikey {env.TRUSTMARY_API_KEY}' },
        operations: [
          {
            type: 'Query',
            field: 'trustmaryContactsByEmail',
            path: '/contacts',
            method: 'GET',
            argTypeMap: { email: { type: 'string' } },
            requiredArgs: ['email'],
            queryParamArgMap: { email: 'email' },
            responseSchema: './schemas/trustmary.json#/definitions/TrustmaryContactList',
          },
        ],
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph('Lunarsend', {
        endpoint: `${PROVIDERS}/lunarsend/api`,
        operationHeaders: { 'x-api-key': '{env.LUNARSEND_API_KEY}' },
        operations: [
          {
            type: 'Query',
            field: 'lunarsendContactsByEmail',
            path: '/contacts?searchby=email',
            method: 'GET',
            argTypeMap: { email: { type: 'string' } },
            requiredArgs: ['email'],
            queryParamArgMap: { search: 'email' },
            responseSchema: './schemas/lunarsend.json#/definitions/LunarsendContactList',
          },
        ],
      }),
    },
  ],
});
