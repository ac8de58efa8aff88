// The staff consent page and the confirmation page before an act that cannot be undone: what they show
// (status with reason, validity, signers' state, timeline, downloads) and which acts the state and the
// caller allow. The routes are in consent.ts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getConsent } from '../../consents/index.ts';
import type { ConsentDetails } from '../../consents/get-consent.ts';
import type { ProtectablePerson } from '../../consents/mark-protected-identity.ts';
import { type ConsentAct, canTransition } from '../../domain/consent.ts';
import { callerOf, type StaffCaller } from '../../identity/caller.ts';
import { actingOrganisationId, authorize, type ConsentAction, decide } from '../../identity/policy.ts';
import type { App } from '../types.ts';
import {
  CHANNEL_LABELS,
  fmtDate,
  fmtDateTime,
  lastDay,
  REASON_LABELS,
  ROLE_LABELS,
  SIGNER_STATE_LABELS,
  staffFrame,
  statusLabel,
  today,
} from './common.ts';
import { organisationNames, staffNames, teamNames } from './directory.ts';
import { timelineOf } from './timeline.ts';

export type FormName = 'withdraw' | 'end';
export type Confirmable = 'cancel' | FormName;
export interface PageState {
  /** A notice after an act (PRG) or a refusal. */
  notice?: { kind: 'ok' | 'bad'; text: string };
}
/** Field errors of the form that was sent, and what it held. */
export interface FormState {
  errors: Record<string, string>;
  values: Record<string, string>;
}

/** Each act that cannot be undone: its path, the policy action, the domain act, and what the page says. */
export const CONFIRM: Record<
  Confirmable,
  { path: string; action: ConsentAction; act: ConsentAct; title: string; button: string }
> = {
  cancel: {
    path: 'avbryt',
    action: 'cancel',
    act: 'cancel',
    title: 'Avbryta förfrågan?',
    button: 'Ja, avbryt förfrågan',
  },
  withdraw: {
    path: 'aterkalla',
    action: 'register_withdrawal',
    act: 'withdraw',
    title: 'Registrera återkallelse',
    button: 'Registrera återkallelsen',
  },
  end: {
    path: 'avsluta',
    action: 'end',
    act: 'end',
    title: 'Avsluta samtycket',
    button: 'Avsluta samtycket',
  },
};

export const DONE: Record<string, string> = {
  skyddad:
    'Markeringen är sparad. Personens telefonnummer och e-postadress visas inte längre för andra, och meddelanden går bara dit personen själv har angett.',
  'skyddad-blankett':
    'Markeringen är sparad. Personens telefonnummer och e-postadress visas inte längre för andra. Men blanketten skapades innan markeringen och visar telefonnumret: den går inte att ändra, och den andra vårdnadshavaren kan se den. Om det inte får ske: avbryt förfrågan (eller avsluta samtycket) och gör en ny förfrågan där du kryssar i rutan om skyddade personuppgifter.',
  avbruten: 'Förfrågan är avbruten. De tillfrågade kan inte längre signera.',
  aterkallad: 'Återkallelsen är registrerad. Samtycket gäller inte längre.',
  avslutad: 'Samtycket är avslutat: de samordnade insatserna har upphört.',
};

/** The consent, if the caller may know of it at all (else `not_found`, as if it did not exist). */
export async function load(
  app: App,
  request: FastifyRequest,
): Promise<{ caller: StaffCaller; consent: ConsentDetails }> {
  const caller = callerOf(request) as StaffCaller;
  const { id } = request.params as { id: string };
  const consent = await getConsent(app, id);
  authorize(caller, 'status', consent);
  return { caller, consent };
}

export function actorFor(caller: StaffCaller, consent: ConsentDetails) {
  const organisationId = actingOrganisationId(caller, consent) ?? consent.organisationId;
  return { type: 'staff' as const, staffId: caller.staffId, organisationId };
}

type Acts = Record<'remind' | 'cancel' | 'withdraw' | 'end' | 'renew', boolean>;

/**
 * The acts the page offers: those the domain's transition rules allow in the consent's state
 * (`canTransition`) and the policy allows the caller. One exception: on a request still waiting for
 * signatures, ending the support and cancelling stop it alike for the signers, so the page offers the
 * one word for it ("Avbryt förfrågan"); the API still takes an end.
 */
function allowedActions(can: (act: ConsentAct, action: ConsentAction) => boolean): Acts {
  const cancel = can('cancel', 'cancel');
  return {
    remind: can('remind', 'remind'),
    cancel,
    withdraw: can('withdraw', 'register_withdrawal'),
    end: !cancel && can('end', 'end'),
    renew: can('renew', 'renew'),
  };
}

/** Who of the consent's people has skyddade personuppgifter, and who could still be marked (issue 16 §5). */
function protectedPeople(consent: ConsentDetails) {
  const people = [
    ...consent.signers
      .filter((s) => s.role !== 'youth')
      .map((s) => ({
        value: s.role as ProtectablePerson,
        label: `${ROLE_LABELS[s.role]}: ${s.name}`,
        marked: s.protectedIdentity,
      })),
    {
      value: 'child' as const,
      label: `Barnet: ${consent.child.name}`,
      marked: consent.child.protectedIdentity,
    },
  ];
  return { marked: people.filter((p) => p.marked), unmarked: people.filter((p) => !p.marked) };
}

/** The status look-ups by other systems and searches, which the timeline leaves out, in a sentence each. */
function lookupTexts(consent: ConsentDetails): string[] {
  const { statusChecks, byChild } = consent.lookups;
  const times = (n: number) => (n === 1 ? 'en gång' : `${n} gånger`);
  return [
    statusChecks.count > 0
      ? `Ett verksamhetssystem har frågat tjänsten om samtyckets status ${times(statusChecks.count)}, senast ${fmtDateTime(statusChecks.lastAt)}.`
      : null,
    byChild.count > 0
      ? `Samtycket har hittats vid sökning på barnets personnummer ${times(byChild.count)}, senast ${fmtDateTime(byChild.lastAt)}.`
      : null,
  ].filter((x): x is string => x !== null);
}

export async function consentPage(
  app: App,
  request: FastifyRequest,
  reply: FastifyReply,
  caller: StaffCaller,
  consent: ConsentDetails,
  state: PageState = {},
  status = 200,
) {
  const may = (a: ConsentAction) => decide(caller, a, consent) === 'allow';
  const can = (act: ConsentAct, a: ConsentAction) => may(a) && canTransition(consent.status, act);
  const read = may('read');
  const full = may('events');
  const [orgs, teams, staff] = await Promise.all([
    organisationNames(app.db, [consent.organisationId]),
    teamNames(app.db, [consent.teamId]),
    full
      ? staffNames(
          app.db,
          consent.timeline.flatMap((e) => (e.actor.type === 'staff' && e.actor.id ? [e.actor.id] : [])),
        )
      : Promise.resolve(new Map<string, string>()),
  ]);
  const id = consent.id;
  const base = `/samtycken/${id}`;
  const withdrawal = consent.withdrawal;
  const statusDetails = [
    withdrawal
      ? `Återkallat av ${ROLE_LABELS[withdrawal.role].toLowerCase()} ${CHANNEL_LABELS[withdrawal.channel]}${
          withdrawal.date ? ` (${withdrawal.date})` : ''
        }.`
      : null,
    consent.ended ? `Insatserna avslutades ${consent.ended.date ?? fmtDate(consent.ended.at)}.` : null,
    consent.declined && full && consent.declined.reason
      ? `Skäl som angavs: ${consent.declined.reason}`
      : null,
  ].filter((x): x is string => x !== null);

  return reply.page(
    'staff/consent',
    {
      // The child's name stays out of <title>: browser history on a shared computer keeps titles.
      ...staffFrame(request, 'Samtycke och underskrifter'),
      csrf: request.session?.csrfToken ?? '',
      base,
      read,
      full,
      notice: state.notice,
      c: {
        childName: consent.child.name,
        healthCentre: consent.child.healthCentre,
        school: consent.child.school,
        organisation: orgs.get(consent.organisationId) ?? '',
        team: teams.get(consent.teamId) ?? '',
        status: consent.status,
        statusLabel: statusLabel(consent.status),
        reason:
          consent.status === 'pending' && consent.awaitingRoles.length > 0
            ? `Väntar på: ${consent.awaitingRoles.map((r) => ROLE_LABELS[r].toLowerCase()).join(', ')}.`
            : REASON_LABELS[consent.reason],
        statusSince: fmtDateTime(consent.statusSince),
        statusDetails,
        requestedAt: fmtDateTime(consent.requestedAt),
        requestExpiresAt: consent.status === 'pending' ? lastDay(consent.requestExpiresAt) : '',
        validFrom: fmtDate(consent.validFrom),
        validUntil: lastDay(consent.validUntil),
        soleGuardian: consent.soleGuardian,
        obtainedBy: consent.obtainedBy.name,
        renewedFrom: consent.renewedFrom ? `/samtycken/${consent.renewedFrom}` : null,
        renewedBy: consent.renewedBy.map((r) => `/samtycken/${r}`),
        checkedAt: fmtDateTime(consent.checkedAt),
        lookups: full ? lookupTexts(consent) : [],
      },
      // Skyddade personuppgifter: the marker and the rule for whoever sees the content; the mark itself for
      // the requesting organisation (the same rule as reminding). Contacts are never on this page.
      protection: read
        ? { ...protectedPeople(consent), canMark: may('remind') }
        : { marked: [], unmarked: [], canMark: false },
      signers: consent.signers.map((s) => ({
        role: s.role,
        roleLabel: ROLE_LABELS[s.role],
        name: s.name,
        protectedIdentity: s.protectedIdentity || (s.role === 'youth' && consent.child.protectedIdentity),
        state: s.state,
        stateLabel: SIGNER_STATE_LABELS[s.state],
        at: fmtDateTime(s.signedAt ?? s.declinedAt),
        place: s.place,
        reminded: fmtDateTime(s.lastRemindedAt),
      })),
      timeline: full ? timelineOf(consent, staff) : [],
      actions: allowedActions(can),
      downloads: {
        form: may('document') && consent.documents.formRevision >= 0,
        receipt: may('document') && consent.documents.receipt,
      },
    },
    status,
  );
}

/** The step before an act that cannot be undone: what will happen, the act's fields, the final button. */
export async function confirmPage(
  app: App,
  request: FastifyRequest,
  reply: FastifyReply,
  consent: ConsentDetails,
  kind: Confirmable,
  form: FormState = { errors: {}, values: {} },
  status = 200,
) {
  const c = CONFIRM[kind];
  const errorList = Object.entries(form.errors).map(([field, message]) => ({
    href: `#${kind}-${field}`,
    message,
  }));
  return reply.page(
    'staff/confirm',
    {
      ...staffFrame(request, errorList.length ? `Fel i formuläret – ${c.title}` : c.title),
      csrf: request.session?.csrfToken ?? '',
      kind,
      heading: c.title,
      button: c.button,
      action: `/samtycken/${consent.id}/${c.path}`,
      back: `/samtycken/${consent.id}`,
      childName: consent.child.name,
      pending: consent.status === 'pending',
      signed: consent.signers.filter((s) => s.state === 'signed').length,
      signers: consent.signers.map((s) => ({ role: s.role, roleLabel: ROLE_LABELS[s.role], name: s.name })),
      errors: form.errors,
      errorList,
      values: form.values,
      today: today(app.clock.now()),
      channels: (['phone', 'in_person', 'letter'] as const).map((ch) => ({
        value: ch,
        label: CHANNEL_LABELS[ch].charAt(0).toUpperCase() + CHANNEL_LABELS[ch].slice(1),
      })),
    },
    status,
  );
}
