// `npm run client -- …`: API clients (other HLT systems) and their secrets.
//   create --org <organisation id> --name … --scopes consent:status,consent:read [--contact-name …] [--contact-email …]
//   list --org <organisation id>
//   rotate --client <client_id>                          add a second secret (printed once)
//   revoke-secret --client <client_id> --secret <id>     then revoke the old one
//   disable --client <client_id>
import { z } from 'zod';
import {
  addClientSecret,
  CONSENT_SCOPES,
  createApiClient,
  disableApiClient,
  findApiClientByClientId,
  isConsentScope,
  listApiClients,
  listClientSecrets,
  revokeClientSecret,
} from '../identity/api-clients.ts';
import { getOrganisation } from '../identity/organisations.ts';
import { type Cli, type CliContext, CliError, isMain, parseCommand, runCli, str, validate } from './org.ts';

const text = z.string().trim().min(1, 'must not be empty').max(200);
const org = z.uuid('must be an organisation id (uuid)');
const clientId = z.string().min(1, 'must not be empty');

const scopes = z
  .string()
  .transform((v) => [...new Set(v.split(/[\s,]+/).filter(Boolean))])
  .refine((list) => list.length > 0, 'must name at least one scope')
  .refine((list) => list.every(isConsentScope), `must be from ${CONSENT_SCOPES.join(', ')}`)
  .transform((list) => list.filter(isConsentScope));

const createSchema = z
  .object({
    org,
    name: text,
    scopes,
    contactName: text.optional(),
    contactEmail: z.email('must be an e-mail address').optional(),
  })
  .refine((o) => !o.scopes.includes('consent:write') || o.contactName !== undefined, {
    path: ['contactName'],
    message: 'is required with consent:write (the named contact on consents the client creates)',
  });

type ClientCommand =
  | { command: 'create'; options: z.infer<typeof createSchema> }
  | { command: 'list'; org: string }
  | { command: 'rotate' | 'disable'; client: string }
  | { command: 'revoke-secret'; client: string; secret: string };

async function clientByClientId(db: CliContext['db'], id: string) {
  const client = await findApiClientByClientId(db, id);
  if (!client) throw new CliError('no API client with that client_id');
  return client;
}

export const clientCli: Cli<ClientCommand> = {
  name: 'client',
  usage: `usage:
  npm run client -- create --org <organisation id> --name <name> --scopes ${CONSENT_SCOPES.join(',')}
                           [--contact-name <name>] [--contact-email <e-mail>]
  npm run client -- list --org <organisation id>
  npm run client -- rotate --client <client_id>                       (adds a second secret)
  npm run client -- revoke-secret --client <client_id> --secret <secret id>
  npm run client -- disable --client <client_id>`,
  parse(args) {
    const { command, values } = parseCommand(args, {
      create: str(['org', 'name', 'scopes', 'contact-name', 'contact-email']),
      list: str(['org']),
      rotate: str(['client']),
      'revoke-secret': str(['client', 'secret']),
      disable: str(['client']),
    });
    switch (command) {
      case 'create':
        return { command, options: validate(createSchema, values) };
      case 'list':
        return { command, ...validate(z.object({ org }), values) };
      case 'revoke-secret':
        return {
          command,
          ...validate(z.object({ client: clientId, secret: z.uuid('must be a secret id') }), values),
        };
      default:
        return {
          command: command as 'rotate' | 'disable',
          ...validate(z.object({ client: clientId }), values),
        };
    }
  },
  async run(cmd, { db, config, clock, out }) {
    switch (cmd.command) {
      case 'create': {
        const { org: organisationId, ...rest } = cmd.options;
        if (!(await getOrganisation(db, organisationId))) throw new CliError('no organisation with that id');
        const { client, secret } = await createApiClient(db, config.clientSecretHmacKey, {
          organisationId,
          ...rest,
        });
        out(`client_id:     ${client.clientId}`);
        out(`client_secret: ${secret}`);
        out(`scopes:        ${client.scopes.join(' ')}`);
        out('The secret is shown only now: store it in the client system.');
        return;
      }
      case 'list': {
        const clients = await listApiClients(db, cmd.org);
        const secrets = await listClientSecrets(
          db,
          clients.map((c) => c.id),
        );
        for (const c of clients) {
          const active = (secrets.get(c.id) ?? []).filter((s) => s.revokedAt === null).map((s) => s.id);
          out(
            `${c.clientId}  ${c.disabledAt ? 'disabled' : 'enabled '}  ${c.scopes.join(' ')}  ${c.name}  secrets: ${active.join(', ') || 'none'}`,
          );
        }
        return;
      }
      case 'rotate': {
        const client = await clientByClientId(db, cmd.client);
        const { secretId, secret } = await addClientSecret(db, config.clientSecretHmacKey, client.id);
        out(`new secret ${secretId}`);
        out(`client_secret: ${secret}`);
        out('Both secrets work now. Once the client uses the new one, revoke the old one:');
        out(`  npm run client -- revoke-secret --client ${client.clientId} --secret <old secret id>`);
        return;
      }
      case 'revoke-secret': {
        const client = await clientByClientId(db, cmd.client);
        await revokeClientSecret(db, client.id, cmd.secret, clock.now());
        out(`secret ${cmd.secret} revoked`);
        return;
      }
      case 'disable': {
        const client = await clientByClientId(db, cmd.client);
        await disableApiClient(db, client.id, clock.now());
        out(`client ${client.clientId} disabled; its tokens stop working now`);
        return;
      }
    }
  },
};

if (isMain(import.meta.url)) await runCli(clientCli);
