// The verification's answer in plain Swedish (templates/pages/verify/result.eta). Every yes/no is said in
// words, not only by colour; times are Swedish time.
import type { DocumentVerification, VerifiedSignature } from '../../consents/verify-document.ts';
import type { SignerRole } from '../../domain/roles.ts';
import { formatStockholmDateTime } from '../../pdf/datetime.ts';
import type { ExpectedDocument } from '../../pdf/verification-link.ts';

type Tone = 'ok' | 'warn' | 'bad';

export interface Fact {
  label: string;
  value: string;
  tone?: Tone;
}

const ROLES: Record<SignerRole, string> = {
  guardian1: 'Vårdnadshavare 1',
  guardian2: 'Vårdnadshavare 2',
  youth: 'Den unge (berörd ungdom)',
};

function summary(r: DocumentVerification): { tone: Tone; heading: string; text: string } {
  switch (r.verdict) {
    case 'valid':
      return r.issued
        ? {
            tone: 'ok',
            heading: 'Dokumentet är äkta och oförändrat',
            text: 'Alla underskrifter är hela och går att lita på, och filen är exakt ett dokument som den här tjänsten har lämnat ut.',
          }
        : {
            tone: 'warn',
            heading: 'Underskrifterna är hela, men filen kommer inte från oss i den här formen',
            text: 'Underskrifterna går att lita på, men den här exakta filen har tjänsten inte lämnat ut. Hämta dokumentet på nytt från tjänsten om du behöver det original som sparats.',
          };
    case 'indeterminate':
      return {
        tone: 'warn',
        heading: 'Underskrifterna går inte att bekräfta',
        text: 'Det som skrevs under är inte ändrat, men minst en underskrift är inte gjord med ett certifikat som den här tjänsten litar på. Vi kan därför inte intyga vem som skrev under.',
      };
    case 'unsigned':
      return {
        tone: 'warn',
        heading: 'Dokumentet har inga underskrifter',
        text: 'Ingen har skrivit under den här filen. Ett samtycke gäller först när alla som ska skriva under har gjort det.',
      };
    default:
      return {
        tone: 'bad',
        heading: 'Dokumentet har ändrats eller en underskrift är trasig',
        text: 'Lita inte på innehållet. Filen är inte som den var när den skrevs under. Hämta dokumentet på nytt från tjänsten eller fråga den som bad om samtycket.',
      };
  }
}

const yes = (value: string): Fact['value'] => `Ja – ${value}`;
const no = (value: string): Fact['value'] => `Nej – ${value}`;

function signatureFacts(s: VerifiedSignature): Fact[] {
  const time = s.signedAt
    ? `${formatStockholmDateTime(s.signedAt)} (svensk tid, ${s.signedAtSource === 'timestamp' ? 'enligt en betrodd tidsstämpel' : 'enligt dokumentet, utan betrodd tidsstämpel'})`
    : 'Uppgift saknas';
  const covers = !s.coversSignedVersion
    ? { value: no('underskriften gäller bara en del av filen.'), tone: 'bad' as const }
    : s.coversWholeFile
      ? { value: yes('underskriften gäller hela filen.'), tone: 'ok' as const }
      : {
          value: yes('underskriften gäller hela dokumentet så som det såg ut när personen skrev under.'),
          tone: 'ok' as const,
        };
  const later =
    s.laterChanges === 'forbidden'
      ? {
          value: 'Ja, otillåtna ändringar – dokumentet har ändrats efter underskriften.',
          tone: 'bad' as const,
        }
      : s.laterChanges === 'allowed'
        ? {
            value: 'Bara tillåtna – senare underskrifter och uppgifter för att kontrollera dem.',
            tone: 'ok' as const,
          }
        : { value: 'Inga.', tone: 'ok' as const };
  return [
    { label: 'Namn i dokumentet', value: s.name ?? 'Uppgift saknas' },
    { label: 'Tidpunkt', value: time },
    {
      label: 'Oförändrad',
      ...(s.intact
        ? { value: yes('det som skrevs under är inte ändrat.'), tone: 'ok' as const }
        : {
            value: no('det som skrevs under har ändrats, eller underskriften är trasig.'),
            tone: 'bad' as const,
          }),
    },
    {
      label: 'Går att lita på',
      ...(s.trusted === 'yes'
        ? {
            value: yes(
              'gjord med e-legitimation genom den här tjänsten, med ett giltigt certifikat vid underskriften.',
            ),
            tone: 'ok' as const,
          }
        : s.trusted === 'no'
          ? {
              value: no(
                'certifikatet kommer inte från den här tjänsten eller gällde inte vid underskriften.',
              ),
              tone: 'bad' as const,
            }
          : { value: 'Går inte att avgöra – underskriften är inte hel.', tone: 'bad' as const }),
    },
    { label: 'Gäller hela dokumentet', ...covers },
    { label: 'Ändringar efter underskriften', ...later },
  ];
}

/** The data of the answer page. */
export function resultView(r: DocumentVerification, expected: ExpectedDocument | undefined) {
  return {
    summary: summary(r),
    issued: r.issued
      ? {
          tone: 'ok' as Tone,
          text: 'Ja. Filen är exakt, byte för byte, en version av ett dokument som den här tjänsten har sparat och lämnat ut.',
        }
      : {
          tone: 'warn' as Tone,
          text: 'Nej. Den här exakta filen har tjänsten inte lämnat ut. Den kan vara ändrad, sparad om i ett annat program eller komma från någon annan.',
        },
    match:
      expected === undefined
        ? undefined
        : r.matchesExpected
          ? { tone: 'ok' as Tone, text: 'Ja. Filen är just det dokument som kvittensen gäller.' }
          : {
              tone: 'bad' as Tone,
              text: 'Nej. Filen är inte det dokument som kvittensen gäller: kontrollsumman stämmer inte.',
            },
    signatures: r.signatures.map((s, i) => ({
      heading: `Underskrift ${i + 1}: ${s.role ? ROLES[s.role] : 'okänd roll'}`,
      facts: signatureFacts(s),
    })),
    unsignedFields: r.unsignedFields,
    sha256: r.sha256,
    checkedAt: formatStockholmDateTime(r.validationTime),
  };
}
