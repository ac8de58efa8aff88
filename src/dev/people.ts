// FICTIONAL TEST PEOPLE for the development IdP, `npm run seed:dev` and tests. None of them exists: the
// names are made up and the numbers are invented (valid Luhn control digit, serial numbers 98x–99x), so that
// forms, signing and matching can be tried end to end without anyone's real data. Never use them outside
// development and tests.
//
// Adults have fixed birth dates. Children's birth years follow the reference date's year, with birthdays
// early in the year, so the ages the scenarios need (a youth 12–15, a youth 16–17, younger children) hold on
// every day of any year, while the numbers stay the same for a whole calendar year (the seed and the IdP
// agree even when started on different days).
import { type LocalDate, localDateFromParts, partsOf } from '../domain/dates.ts';
import { luhnControlDigit } from '../domain/personal-number.ts';

export type OrganisationType = 'school' | 'health_care' | 'social_services';

export interface TestPerson {
  /** Stable key, e.g. `anna-lindqvist`. */
  key: string;
  givenName: string;
  familyName: string;
  name: string;
  /** 12 digits YYYYMMDDNNNC. Fictional. */
  personalNumber: string;
  birthDate: LocalDate;
  legalSex: 'female' | 'male';
  role: 'guardian' | 'child' | 'staff';
  /** The household (family) a guardian or child belongs to. */
  household?: string;
  /** Staff only. Addresses use the reserved `.example` domain (RFC 2606): mail to them goes nowhere. */
  email?: string;
  organisation?: { type: OrganisationType; name: string };
  title?: string;
  /** Short Swedish description for the dev IdP login page. */
  description: string;
  readonly fictional: true;
}

export interface TestHousehold {
  key: string;
  /** Person keys, in the order they go on the form (guardian 1 first). */
  guardians: string[];
  children: string[];
  soleGuardian: boolean;
}

export interface TestPeople {
  referenceDate: LocalDate;
  people: TestPerson[];
  households: TestHousehold[];
}

/** The fictional municipality and organisations the staff belong to (and `seed:dev` creates). */
export const TEST_MUNICIPALITY = 'Exempelby kommun';
export const TEST_ORGANISATIONS: Readonly<Record<OrganisationType, string>> = {
  school: 'Björkskolan',
  health_care: 'Hälsocentralen Norrby',
  social_services: 'Socialtjänsten Exempelby',
};

/** Builds a fictional number: YYYYMMDD + birth number + Luhn control digit. `coordination` adds 60 to the day. */
export function fictionalNumber(birthDate: LocalDate, birthNumber: string, coordination = false): string {
  const { year, month, day } = partsOf(birthDate);
  const dd = String(day + (coordination ? 60 : 0)).padStart(2, '0');
  const date = `${String(year).padStart(4, '0')}${String(month).padStart(2, '0')}${dd}`;
  return `${date}${birthNumber}${luhnControlDigit(date.slice(2) + birthNumber)}`;
}

interface Spec {
  key: string;
  givenName: string;
  familyName: string;
  /** Fixed date, or [years before the reference year, month, day]. */
  born: LocalDate | [number, number, number];
  /** Three digits; the last is odd for men, even for women (folkbokföringslagen 18 §). */
  birthNumber: string;
  coordination?: boolean;
  role: TestPerson['role'];
  household?: string;
  organisation?: OrganisationType;
  title?: string;
  description: string;
}

const fixed = (iso: string) => iso as LocalDate;

const SPECS: readonly Spec[] = [
  // Household 1: two guardians, a youth who signs (12–15) and a younger child.
  {
    key: 'anna-lindqvist',
    givenName: 'Anna',
    familyName: 'Lindqvist',
    born: fixed('1984-05-17'),
    birthNumber: '982',
    role: 'guardian',
    household: 'lindqvist',
    description: 'Vårdnadshavare till Saga och Elsa',
  },
  {
    key: 'erik-lindqvist',
    givenName: 'Erik',
    familyName: 'Lindqvist',
    born: fixed('1982-11-02'),
    birthNumber: '983',
    role: 'guardian',
    household: 'lindqvist',
    description: 'Vårdnadshavare till Saga och Elsa',
  },
  {
    key: 'saga-lindqvist',
    givenName: 'Saga',
    familyName: 'Lindqvist',
    born: [14, 2, 10],
    birthNumber: '984',
    role: 'child',
    household: 'lindqvist',
    description: 'Ungdom 13–14 år',
  },
  {
    key: 'elsa-lindqvist',
    givenName: 'Elsa',
    familyName: 'Lindqvist',
    born: [7, 4, 21],
    birthNumber: '986',
    role: 'child',
    household: 'lindqvist',
    description: 'Barn 6–7 år',
  },
  // Household 2: two guardians (names outside Latin-1; one has a coordination number) and two children.
  {
    key: 'lucja-sahin',
    givenName: 'Łucja',
    familyName: 'Şahin',
    born: fixed('1990-08-09'),
    birthNumber: '988',
    role: 'guardian',
    household: 'sahin',
    description: 'Vårdnadshavare till Zeynep och Ali',
  },
  {
    key: 'mehmet-sahin',
    givenName: 'Mehmet',
    familyName: 'Şahin',
    born: fixed('1987-03-24'),
    birthNumber: '989',
    coordination: true,
    role: 'guardian',
    household: 'sahin',
    description: 'Vårdnadshavare till Zeynep och Ali (samordningsnummer)',
  },
  {
    key: 'zeynep-sahin',
    givenName: 'Zeynep',
    familyName: 'Şahin',
    born: [10, 1, 14],
    birthNumber: '990',
    role: 'child',
    household: 'sahin',
    description: 'Barn 9–10 år',
  },
  {
    key: 'ali-sahin',
    givenName: 'Ali',
    familyName: 'Şahin',
    born: [4, 6, 5],
    birthNumber: '991',
    role: 'child',
    household: 'sahin',
    description: 'Barn 3–4 år',
  },
  // Household 3: a sole guardian and a youth of 16–17.
  {
    key: 'mai-nguyen',
    givenName: 'Mai',
    familyName: 'Nguyễn',
    born: fixed('1979-12-30'),
    birthNumber: '992',
    role: 'guardian',
    household: 'nguyen',
    description: 'Ensam vårdnadshavare till Minh',
  },
  {
    key: 'minh-nguyen',
    givenName: 'Minh',
    familyName: 'Nguyễn',
    born: [17, 3, 3],
    birthNumber: '993',
    role: 'child',
    household: 'nguyen',
    description: 'Ungdom 16–17 år',
  },
  // Staff, one per organisation type.
  {
    key: 'karin-holm',
    givenName: 'Karin',
    familyName: 'Holm',
    born: fixed('1975-09-12'),
    birthNumber: '994',
    role: 'staff',
    organisation: 'school',
    title: 'Rektor',
    description: 'Personal, skola',
  },
  {
    key: 'johan-oberg',
    givenName: 'Johan',
    familyName: 'Öberg',
    born: fixed('1980-01-28'),
    birthNumber: '995',
    role: 'staff',
    organisation: 'health_care',
    title: 'Distriktssköterska',
    description: 'Personal, hälsocentral',
  },
  {
    key: 'amira-haddad',
    givenName: 'Amira',
    familyName: 'Haddad',
    born: fixed('1988-06-30'),
    birthNumber: '996',
    role: 'staff',
    organisation: 'social_services',
    title: 'Socialsekreterare',
    description: 'Personal, socialtjänst',
  },
];

const HOUSEHOLDS: readonly TestHousehold[] = [
  {
    key: 'lindqvist',
    guardians: ['anna-lindqvist', 'erik-lindqvist'],
    children: ['saga-lindqvist', 'elsa-lindqvist'],
    soleGuardian: false,
  },
  {
    key: 'sahin',
    guardians: ['lucja-sahin', 'mehmet-sahin'],
    children: ['zeynep-sahin', 'ali-sahin'],
    soleGuardian: false,
  },
  { key: 'nguyen', guardians: ['mai-nguyen'], children: ['minh-nguyen'], soleGuardian: true },
];

/** ASCII e-mail local part: `Johan Öberg` → `johan.oberg`. */
function emailLocalPart(givenName: string, familyName: string): string {
  const ascii = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/ł/g, 'l')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-');
  return `${ascii(givenName)}.${ascii(familyName)}`;
}

/** The fictional test people as of `referenceDate` (normally today's date in Stockholm). */
export function createTestPeople(referenceDate: LocalDate): TestPeople {
  const refYear = partsOf(referenceDate).year;
  const people = SPECS.map((spec): TestPerson => {
    const birthDate = Array.isArray(spec.born)
      ? localDateFromParts(refYear - spec.born[0], spec.born[1], spec.born[2])
      : spec.born;
    const person: TestPerson = {
      key: spec.key,
      givenName: spec.givenName,
      familyName: spec.familyName,
      name: `${spec.givenName} ${spec.familyName}`,
      personalNumber: fictionalNumber(birthDate, spec.birthNumber, spec.coordination),
      birthDate,
      legalSex: Number(spec.birthNumber[2]) % 2 === 1 ? 'male' : 'female',
      role: spec.role,
      description: spec.description,
      fictional: true,
    };
    if (spec.household) person.household = spec.household;
    if (spec.organisation) {
      person.organisation = { type: spec.organisation, name: TEST_ORGANISATIONS[spec.organisation] };
      person.email = `${emailLocalPart(spec.givenName, spec.familyName)}@exempelby.example`;
    }
    if (spec.title) person.title = spec.title;
    return person;
  });
  return { referenceDate, people, households: HOUSEHOLDS.map((h) => structuredClone(h)) };
}

export function findTestPerson(people: TestPeople, key: string): TestPerson | undefined {
  return people.people.find((p) => p.key === key);
}
