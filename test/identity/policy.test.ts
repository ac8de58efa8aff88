// The authorization policy, table-driven: every action × every kind of caller × every status, against a
// table written out by hand from issue 6 ("Who may see what") — not derived from the code under test.
import t from 'tap';
import { CONSENT_STATUSES, type ConsentStatus } from '../../src/domain/consent.ts';
import { AppError } from '../../src/errors.ts';
import { CONSENT_SCOPES, type ConsentScope } from '../../src/identity/api-clients.ts';
import type { Caller } from '../../src/identity/caller.ts';
import {
  actingOrganisationId,
  assertAllowed,
  authorize,
  CONSENT_ACTIONS,
  CONSENT_POLICY,
  type ConsentAction,
  consentVisibility,
  type Decision,
  decide,
  decideAdmin,
} from '../../src/identity/policy.ts';

const ORG_A = '00000000-0000-4000-8000-00000000000a'; // requesting organisation
const ORG_B = '00000000-0000-4000-8000-00000000000b'; // another organisation of the consent's team
const ORG_C = '00000000-0000-4000-8000-00000000000c'; // outside the team
const TEAM = '00000000-0000-4000-8000-0000000000f1';
const OTHER_TEAM = '00000000-0000-4000-8000-0000000000f2';

const staff = (organisationId: string, teams: string[], role: 'staff' | 'admin' = 'staff'): Caller => ({
  kind: 'staff',
  staffId: '00000000-0000-4000-8000-000000000051',
  memberships: [{ organisationId, role }],
  teams: teams.map((teamId) => ({ teamId, organisationId })),
});
const client = (
  organisationId: string,
  teams: string[],
  scopes: readonly ConsentScope[] = CONSENT_SCOPES,
): Caller => ({
  kind: 'api_client',
  clientId: '00000000-0000-4000-8000-0000000000c1',
  organisationId,
  scopes: [...scopes],
  contactName: 'Kontakt',
  name: 'System',
  teams: teams.map((teamId) => ({ teamId, organisationId })),
});
const signer: Caller = {
  kind: 'signer',
  personalNumber: '198405179822',
  name: 'Anna Lindqvist',
  issuer: 'https://idp.example',
  acr: 'loa3',
  authTime: new Date('2026-11-23T09:00:00Z'),
};

interface Case {
  caller: Caller;
  isSigner?: boolean;
  /** One letter per action, in CONSENT_ACTIONS order. */
  row: string;
}

// A allow · F forbidden · N not_found · S insufficient_scope · a = allow while active, else forbidden
//                                      status read document events remind cancel end register_withdrawal renew withdraw create
const COLUMNS = CONSENT_ACTIONS;
const TABLE: Record<string, Case> = {
  'requesting org staff': { caller: staff(ORG_A, [TEAM]), row: 'A A A A A A A A A F A' },
  'requesting org admin': { caller: staff(ORG_A, [TEAM], 'admin'), row: 'A A A A A A A A A F A' },
  'requesting org client, all scopes': { caller: client(ORG_A, [TEAM]), row: 'A A A A A A A A A F A' },
  'requesting org client, status only': {
    caller: client(ORG_A, [TEAM], ['consent:status']),
    row: 'A S S S S S S S S S S',
  },
  'requesting org client, read only': {
    caller: client(ORG_A, [TEAM], ['consent:read']),
    row: 'S A A A S S S S S S S',
  },
  'team org staff': { caller: staff(ORG_B, [TEAM]), row: 'A a a F F F F F F F F' },
  'team org client, all scopes': { caller: client(ORG_B, [TEAM]), row: 'A a a F F F F F F F F' },
  'team org client, status only': {
    caller: client(ORG_B, [TEAM], ['consent:status']),
    row: 'A S S S S S S S S S F',
  },
  'other org staff': { caller: staff(ORG_C, [OTHER_TEAM]), row: 'N N N N N N N N N N F' },
  'other org admin': { caller: staff(ORG_C, [OTHER_TEAM], 'admin'), row: 'N N N N N N N N N N F' },
  'other org client': { caller: client(ORG_C, [OTHER_TEAM]), row: 'N N N N N N N N N N F' },
  'other org client without teams': { caller: client(ORG_C, []), row: 'N N N N N N N N N N F' },
  'disabled staff (no memberships)': {
    caller: { kind: 'staff', staffId: 'x', memberships: [], teams: [] },
    row: 'N N N N N N N N N N F',
  },
  'signer of the consent': { caller: signer, isSigner: true, row: 'A A A F F F F F F A N' },
  'signer, not of this consent': { caller: signer, isSigner: false, row: 'N N N N N N N N N N N' },
};

const LETTERS: Record<string, Decision> = {
  A: 'allow',
  F: 'forbidden',
  N: 'not_found',
  S: 'insufficient_scope',
};

function expected(letter: string, status: ConsentStatus): Decision {
  if (letter === 'a') return status === 'active' ? 'allow' : 'forbidden';
  const d = LETTERS[letter];
  if (!d) throw new Error(`bad letter ${letter}`);
  return d;
}

t.test('every action × caller × status', async (t) => {
  let checked = 0;
  for (const [label, { caller, isSigner, row }] of Object.entries(TABLE)) {
    const letters = row.split(' ');
    t.equal(letters.length, COLUMNS.length, `${label}: one letter per action`);
    for (const [i, action] of COLUMNS.entries()) {
      for (const status of CONSENT_STATUSES) {
        const ref = { organisationId: ORG_A, teamId: TEAM, status };
        const got = decide(caller, action, ref, isSigner === undefined ? {} : { isSigner });
        const want = expected(letters[i] as string, status);
        if (got !== want) t.fail(`${label} · ${action} · ${status}: ${got}, expected ${want}`);
        checked++;
      }
    }
  }
  t.equal(checked, Object.keys(TABLE).length * CONSENT_ACTIONS.length * CONSENT_STATUSES.length);
});

t.test('the policy table names every action once', async (t) => {
  t.same(Object.keys(CONSENT_POLICY).sort(), [...CONSENT_ACTIONS].sort());
});

t.test(
  'create: only for an organisation the caller belongs to, in a team that organisation is in',
  async (t) => {
    const ref = (teamId: string) => ({ organisationId: ORG_A, teamId, status: 'pending' as const });
    t.equal(decide(staff(ORG_A, [TEAM]), 'create', ref(TEAM)), 'allow');
    t.equal(decide(staff(ORG_A, [TEAM]), 'create', ref(OTHER_TEAM)), 'not_found', 'a team it is not in');
    t.equal(decide(client(ORG_A, [TEAM]), 'create', ref(OTHER_TEAM)), 'not_found');
    t.equal(decide(staff(ORG_B, [TEAM]), 'create', ref(TEAM)), 'forbidden', 'for another organisation');
    // Staff of two organisations: the team must be the requesting organisation's, not the other one's.
    const twoOrgs: Caller = {
      kind: 'staff',
      staffId: 's',
      memberships: [
        { organisationId: ORG_A, role: 'staff' },
        { organisationId: ORG_C, role: 'staff' },
      ],
      teams: [
        { teamId: TEAM, organisationId: ORG_A },
        { teamId: OTHER_TEAM, organisationId: ORG_C },
      ],
    };
    t.equal(decide(twoOrgs, 'create', ref(TEAM)), 'allow');
    t.equal(decide(twoOrgs, 'create', ref(OTHER_TEAM)), 'not_found');
    t.equal(
      decide(twoOrgs, 'read', { organisationId: ORG_C, teamId: OTHER_TEAM, status: 'pending' }),
      'allow',
    );
    t.equal(actingOrganisationId(twoOrgs, { organisationId: ORG_C, teamId: OTHER_TEAM }), ORG_C);
  },
);

t.test('decisions become the errors routes answer with', async (t) => {
  t.doesNotThrow(() => assertAllowed('allow'));
  for (const [decision, status] of [
    ['not_found', 404],
    ['forbidden', 403],
    ['insufficient_scope', 403],
  ] as const) {
    t.throws(() => assertAllowed(decision), new AppError(decision), decision);
    t.throws(() => assertAllowed(decision), { code: decision, status }, `${decision}: ${status}`);
  }
  const ref = { organisationId: ORG_A, teamId: TEAM, status: 'active' as const };
  t.throws(() => authorize(staff(ORG_C, [OTHER_TEAM]), 'status', ref), { code: 'not_found' });
  t.doesNotThrow(() => authorize(staff(ORG_A, [TEAM]), 'events', ref));
});

t.test('the admin decision: own admins allow, own staff forbidden, anyone else not_found', async (t) => {
  t.equal(decideAdmin(staff(ORG_A, [], 'admin'), ORG_A), 'allow');
  t.equal(decideAdmin(staff(ORG_A, [], 'staff'), ORG_A), 'forbidden');
  t.equal(decideAdmin(staff(ORG_C, [], 'admin'), ORG_A), 'not_found');
  t.equal(decideAdmin(client(ORG_A, []), ORG_A), 'not_found');
  t.equal(decideAdmin(signer, ORG_A), 'not_found');
});

t.test('what list queries may look at; acting organisation for audit', async (t) => {
  t.same(consentVisibility(staff(ORG_B, [TEAM])), { organisationIds: [ORG_B], teamIds: [TEAM] });
  t.same(consentVisibility(signer), { organisationIds: [], teamIds: [] });
  const ref = { organisationId: ORG_A, teamId: TEAM };
  t.equal(actingOrganisationId(staff(ORG_A, [TEAM]), ref), ORG_A);
  t.equal(actingOrganisationId(client(ORG_B, [TEAM]), ref), ORG_B);
  t.equal(actingOrganisationId(staff(ORG_C, [OTHER_TEAM]), ref), undefined);
  t.equal(actingOrganisationId(signer, ref), undefined);
});

t.test('the decision ignores what it must not depend on', async (t) => {
  // A signer flag on an organisation caller changes nothing; a staff role changes nothing for consents.
  const ref = { organisationId: ORG_A, teamId: TEAM, status: 'pending' as const };
  for (const action of CONSENT_ACTIONS) {
    t.equal(
      decide(staff(ORG_C, [OTHER_TEAM]), action, ref, { isSigner: true }),
      decide(staff(ORG_C, [OTHER_TEAM]), action, ref),
    );
    t.equal(decide(staff(ORG_A, [TEAM], 'admin'), action, ref), decide(staff(ORG_A, [TEAM]), action, ref));
  }
  const action: ConsentAction = 'read';
  t.equal(
    decide(client(ORG_B, [OTHER_TEAM]), action, { ...ref, status: 'active' }),
    'not_found',
    'team membership is per team',
  );
});
