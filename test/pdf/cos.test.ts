// The small PDF object layer under signing and verification: parsing what PDF writers produce,
// writing it back unchanged in meaning, and DER for certificates and CMS.
import t from 'tap';
import {
  deepEqual,
  name,
  PdfDict,
  PdfName,
  PdfRef,
  PdfString,
  serialize,
} from '../../src/pdf/cos/objects.ts';
import { Parser } from '../../src/pdf/cos/parser.ts';
import * as der from '../../src/pdf/der.ts';
import { certificateDer, issueCertificate, OID, parseCertificate, pkijs } from '../../src/pdf/pki.ts';
import { parsePdfDate } from '../../src/pdf/verify/index.ts';
import { cn, newKey } from './helpers/pki.ts';

const parse = (s: string) => new Parser(Buffer.from(s, 'latin1')).parseObject();

t.test('objects parse and serialise back to the same meaning', async (t) => {
  const src =
    '<< /Type /Sig /A#20B (x\\(y\\)\\\\z\\101) /H <FEFF0141> /N [1 -2.5 .5 3 0 R true null] /D << /K 4 >> >>';
  const obj = parse(src) as PdfDict;
  t.ok(obj instanceof PdfDict);
  t.equal(obj.name('Type'), 'Sig');
  t.equal((obj.get('A B') as PdfString).toText(), 'x(y)\\zA', 'escapes, octal and #20 in names');
  t.equal((obj.get('H') as PdfString).toText(), 'Ł', 'UTF-16BE text string');
  const arr = obj.get('N') as unknown[];
  t.same(arr.slice(0, 3), [1, -2.5, 0.5]);
  t.ok(arr[3] instanceof PdfRef && (arr[3] as PdfRef).num === 3, 'reference');
  t.same(arr.slice(4), [true, null]);
  t.ok(deepEqual(parse(serialize(obj)), obj), 'round trip');
  t.equal(
    serialize(PdfString.text('Łukasz')),
    '<feff0141' + '0075006b00610073007a>',
    'non-ASCII text as UTF-16BE',
  );
  t.equal(serialize(PdfString.text('Umea (x)')), '(Umea \\(x\\))');
  t.equal(serialize(name('A B#')), '/A#20B#23');
  t.equal(serialize(0.1 + 0.2), '0.3', 'no floating point noise');
  t.equal(PdfName.of('X'), PdfName.of('X'), 'names are interned');
});

t.test('PDF dates (ISO 32000-1 §7.9.4)', async (t) => {
  t.equal(parsePdfDate('D:20260630223000Z')?.toISOString(), '2026-06-30T22:30:00.000Z');
  t.equal(parsePdfDate("D:20260701003000+02'00'")?.toISOString(), '2026-06-30T22:30:00.000Z');
  t.equal(parsePdfDate("D:20260630203000-02'00")?.toISOString(), '2026-06-30T22:30:00.000Z');
  t.equal(parsePdfDate('D:2026')?.toISOString(), '2026-01-01T00:00:00.000Z');
  t.equal(parsePdfDate('yesterday'), undefined);
});

t.test('certificates: DER we write is what pkijs and our reader read', async (t) => {
  const { key } = newKey();
  const notBefore = new Date('2049-12-31T23:00:00Z');
  const notAfter = new Date('2050-01-01T01:00:00Z'); // UTCTime before 2050, GeneralizedTime from 2050
  const cert = issueCertificate({
    subject: [...cn('Åsa Öberg'), { type: OID.serialNumber, value: 'PNOSE-198112241234' }],
    spki: key.spki,
    issuer: { selfSigned: key },
    notBefore,
    notAfter,
    keyUsage: ['digitalSignature', 'nonRepudiation'],
  });
  const parts = der.certificateParts(cert);
  t.equal(parts.notBefore.toISOString(), notBefore.toISOString());
  t.equal(parts.notAfter.toISOString(), notAfter.toISOString());
  t.same(
    der.readName(parts.subject).map((a) => a.value),
    ['SE', 'Samtycke test', 'Åsa Öberg', 'PNOSE-198112241234'],
  );
  const p = parseCertificate(cert);
  t.equal(p.notAfter.value.toISOString(), notAfter.toISOString(), 'pkijs agrees');
  t.ok(await p.verify(p), 'self-signature verifies in pkijs (WebCrypto)');
  t.ok(Buffer.from(certificateDer(p)).equals(cert), "a parsed certificate's DER is its own bytes");
  const trailing = parseCertificate(Buffer.concat([cert, Buffer.from([0x05, 0x00])]));
  t.ok(Buffer.from(certificateDer(trailing)).equals(cert), 'without bytes that follow it');
  const rebuilt = new pkijs.Certificate({ schema: p.toSchema(true) });
  t.ok(Buffer.from(certificateDer(rebuilt)).equals(cert), 'one not parsed from bytes is encoded');
  t.equal(
    der.decodeOid(
      der.contentOf(der.oid(OID.signingCertificateV2), der.readTlv(der.oid(OID.signingCertificateV2), 0)),
    ),
    OID.signingCertificateV2,
  );
  t.same(
    [...der.unsignedInteger(Buffer.from([0x00, 0x00, 0x80]))],
    [0x02, 0x02, 0x00, 0x80],
    'minimal positive INTEGER',
  );
});
