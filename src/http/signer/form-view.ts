// The consent form as HTML, from the same template version (templates/hlt-consent/<version>) the PDF was
// rendered from, so the page says what the document says: every personal number included, as on the
// paper form (a decision of the product: pages say plainly what the PDF shows rather than hide it here).
// The one exception: a person with skyddade personuppgifter (issue 16 §5) — their phone shows as not
// given ("–"), as the form prints it when the mark came with the request. Every signer sees this page, so
// it never says who is protected either.
import type { LoadedConsent, SignerRecord } from '../../consents/consent.repository.ts';
import { requiredRoles, type SignerRole } from '../../domain/roles.ts';
import { consentHeading } from '../../pdf/heading.ts';
import { fillPlaceholders, formatPersonalNumber } from '../../pdf/layout.ts';
import { type FormSection, loadTemplate } from '../../pdf/template.ts';
import { swedishDateTime } from './common.ts';

export interface FormFact {
  label: string;
  value: string;
}

export interface FormViewSection {
  title: string;
  facts?: FormFact[];
  intro?: string;
  points?: string[];
  paragraphs?: string[];
  signatures?: { role: string; name: string; state: string }[];
}

export interface FormView {
  /** The document's title ("Samtyckesblankett"; templates from v3). */
  title?: string;
  heading: string;
  subheading: string;
  intro: string;
  sections: FormViewSection[];
}

export function formView(loaded: LoadedConsent, organisationName: string): FormView {
  const { consent, signers } = loaded;
  const template = loadTemplate('hlt-consent', consent.templateVersion);
  const missing = template.missingValue;
  const orValue = (v: string | null | undefined): string => (v && v.trim() !== '' ? v : missing);
  const signerOf = (role: SignerRole): SignerRecord | undefined => signers.find((s) => s.role === role);
  const roles = requiredRoles(consent);

  const guardianFacts = (role: 'guardian1' | 'guardian2', rows: { field: string; label: string }[][]) => {
    const g = signerOf(role);
    if (!g) return [];
    return rows.flat().map(({ field, label }): FormFact => {
      switch (field) {
        case 'name':
          return { label, value: g.name };
        case 'personalNumber':
          return { label, value: formatPersonalNumber(g.personalNumber) };
        case 'phone':
          return { label, value: g.protectedIdentity ? missing : orValue(g.phone) };
        default:
          return { label, value: consent.soleGuardian ? 'Ja' : 'Nej' };
      }
    });
  };

  const section = (s: FormSection): FormViewSection | null => {
    switch (s.kind) {
      case 'guardian1':
        return { title: s.title, facts: guardianFacts('guardian1', s.rows) };
      case 'guardian2':
        return consent.soleGuardian ? null : { title: s.title, facts: guardianFacts('guardian2', s.rows) };
      case 'child': {
        const values: Record<string, string> = {
          name: consent.child.name,
          personalNumber: formatPersonalNumber(consent.child.personalNumber),
          healthCentre: orValue(consent.child.healthCentre),
          school: orValue(consent.child.school),
        };
        return {
          title: s.title,
          facts: s.rows.flat().map(({ field, label }) => ({ label, value: values[field] ?? missing })),
        };
      }
      case 'organisation':
        return {
          title: s.title,
          facts: s.rows.flat().map(({ label }) => ({ label, value: organisationName })),
        };
      case 'statement':
        return {
          title: s.title,
          intro: s.intro,
          points: s.points.map((p) => fillPlaceholders(p, { organisation: organisationName })),
        };
      case 'signatures':
        return {
          title: s.title,
          intro: s.intro,
          signatures: roles.map((role) => {
            const signer = signerOf(role);
            const state = signer?.signedAt
              ? `Signerad${signer.signedPlace ? ` i ${signer.signedPlace}` : ''} ${swedishDateTime(signer.signedAt)}`
              : signer?.declinedAt
                ? 'Avböjd'
                : 'Inte signerad ännu';
            return { role: s.roles[role], name: signer?.name ?? missing, state };
          }),
        };
      case 'obtainedBy': {
        const o = consent.obtainedBy;
        const values: Record<string, string> = {
          name: o.name,
          title: orValue(o.title),
          phone: orValue(o.phone),
          email: orValue(o.email),
        };
        return {
          title: s.title,
          facts: s.rows.flat().map(({ field, label }) => ({ label, value: values[field] ?? missing })),
        };
      }
      case 'dataProtection':
        return { title: s.title, paragraphs: s.paragraphs };
    }
  };

  return {
    ...consentHeading(template, consent.area),
    subheading: template.subheading,
    intro: template.intro,
    sections: template.sections.map(section).filter((s): s is FormViewSection => s !== null),
  };
}
