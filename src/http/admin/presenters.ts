// The admin API's answers: stored rows as the schemas (schemas.ts) describe them.
import type { ApiClient, ClientSecretInfo } from '../../identity/api-clients.ts';
import type { Organisation } from '../../identity/organisations.ts';
import type { OrganisationStaff } from '../../identity/staff.ts';

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export const organisationOut = (o: Organisation) => ({
  id: o.id,
  name: o.name,
  type: o.type,
  municipality: o.municipality,
  hltArea: o.hltArea,
});

export const secretOut = (s: ClientSecretInfo) => ({
  id: s.id,
  createdAt: s.createdAt.toISOString(),
  revokedAt: iso(s.revokedAt),
});

export const clientOut = (c: ApiClient, secrets: ClientSecretInfo[]) => ({
  id: c.id,
  clientId: c.clientId,
  name: c.name,
  scopes: c.scopes,
  contactName: c.contactName,
  contactEmail: c.contactEmail,
  disabledAt: iso(c.disabledAt),
  createdAt: c.createdAt.toISOString(),
  secrets: secrets.map(secretOut),
});

export const staffOut = (s: OrganisationStaff) => ({
  id: s.id,
  email: s.email,
  name: s.name,
  title: s.title,
  phone: s.phone,
  role: s.role,
  loginBound: s.loginBound,
  lastLoginAt: iso(s.lastLoginAt),
  disabledAt: iso(s.membershipDisabledAt),
  createdAt: s.createdAt.toISOString(),
});
