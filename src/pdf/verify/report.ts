// The verification report as text for people (`npm run verify`) and as JSON for machines.
import { formatStockholmDateTime } from '../datetime.ts';
import type { RevocationStatus } from '../validation-data.ts';
import type { SignatureReport, VerificationReport } from './index.ts';

const VERDICT: Record<VerificationReport['verdict'], string> = {
  valid: 'VALID: every signature is valid and nothing forbidden changed after it',
  invalid: 'INVALID: at least one signature is broken or the document changed after it was signed',
  indeterminate:
    'INDETERMINATE: the signatures are intact but at least one cannot be traced to a trusted root',
  unsigned: 'UNSIGNED: the document has no signatures',
};

const when = (d: Date | undefined): string =>
  d ? `${formatStockholmDateTime(d)} (${d.toISOString()})` : 'unknown';
const yesNo = (ok: boolean, yes: string, no: string): string => (ok ? yes : `${no} ✗`);

/** "good (OCSP of 2026-12-06 …)" per certificate, or what is missing. */
function revocationText(list: readonly RevocationStatus[]): string {
  if (list.length === 0) return 'not checked';
  return list
    .map((r) =>
      r.status === 'unknown'
        ? `${r.subject}: no revocation data ✗`
        : `${r.subject}: ${r.status === 'good' ? 'not revoked' : `REVOKED ${when(r.revokedAt)} ✗`} (${r.source} of ${r.issuedAt?.toISOString() ?? '?'})`,
    )
    .join('; ');
}

function signatureLines(s: SignatureReport, i: number, revisions: number): string[] {
  const lines = [
    `Signature ${i + 1}: field "${s.field}"${s.role ? ` (role ${s.role})` : ''} — ${s.status.toUpperCase()}`,
  ];
  lines.push(`  Signer:              ${s.signerName ?? 'unknown'}`);
  lines.push(`  Claimed time (/M):   ${when(s.claimedSigningTime)}`);
  if (s.reason) lines.push(`  Reason:              ${s.reason}`);
  if (s.location) lines.push(`  Location:            ${s.location}`);
  lines.push(`  Type:                ${s.subFilter ?? '?'}${s.level ? `, ${s.level}` : ''}`);
  lines.push(
    `  CMS:                 ${yesNo(s.cms.digestValid, 'message digest matches', 'message digest MISMATCH')}; ` +
      `${yesNo(s.cms.signatureValid, 'signature verifies', 'signature does NOT verify')}; ` +
      `${yesNo(s.cms.signingCertificateValid, 'signing-certificate-v2 binds the signer', 'signing-certificate-v2 wrong or missing')}`,
  );
  const c = s.certificate;
  lines.push(
    `  Certificate:         issued by ${c.issuer ?? '?'}, valid ${when(c.notBefore)} – ${when(c.notAfter)}`,
  );
  lines.push(
    `  Chain:               ${c.chainValid ? `trusted (${c.path.slice(1).join(' → ') || 'anchor'})` : `NOT trusted ✗ (${c.problems.join('; ') || 'unknown problem'})`}`,
  );
  lines.push(
    `  Validated at:        ${when(c.validatedAt)}, the ${c.validationTimeSource.replace(/-/g, ' ')}`,
  );
  if (c.chainValid) lines.push(`  Revocation:          ${revocationText(c.revocation)}`);
  if (s.timestamp) {
    const t = s.timestamp;
    lines.push(
      `  Timestamp:           ${when(t.genTime)} by ${t.tsa ?? '?'}: ` +
        `${yesNo(t.imprintValid && t.signatureValid, 'valid', 'INVALID')}, ${yesNo(t.trusted, 'trusted', 'not trusted')}` +
        (t.certificateNotAfter ? `, TSA certificate valid until ${t.certificateNotAfter.toISOString()}` : ''),
    );
    if (t.trusted) lines.push(`  TSA revocation:      ${revocationText(t.revocation)}`);
  } else lines.push('  Timestamp:           none');
  const br = s.byteRange;
  const covers = br.coversRevision
    ? `revision ${(br.revision ?? 0) + 1} of ${revisions} entirely; ${br.coversWholeFile ? 'the whole file' : `${br.laterRevisions} later revision(s) follow`}`
    : 'NOT a whole revision ✗';
  lines.push(`  Byte range:          [${br.range.join(' ')}] covers ${covers}`);
  const { allowed, forbidden } = s.laterChanges;
  if (forbidden.length) {
    lines.push(`  Later changes:       FORBIDDEN ✗`);
    for (const f of forbidden)
      lines.push(`    - revision ${f.revision + 1}: ${f.kind} ${f.what} (object ${f.object})`);
  } else if (allowed.length)
    lines.push(
      '  Later changes:       only allowed ones (signatures, their fields and appearances, AcroForm, DSS)',
    );
  else lines.push('  Later changes:       none');
  for (const p of s.problems) lines.push(`  ! ${p}`);
  return lines;
}

export function formatReport(report: VerificationReport, fileName?: string): string {
  const lines: string[] = [];
  if (fileName) lines.push(`File:       ${fileName}`);
  lines.push(`Size:       ${report.file.size} bytes, SHA-256 ${report.file.sha256}`);
  lines.push(`Revisions:  ${report.file.revisions}`);
  lines.push(`Validated:  as of ${when(report.validationTime)}`);
  lines.push(
    `DSS:        ${report.dss ? `${report.dss.certificates} certificates, ${report.dss.ocsps} OCSP responses, ${report.dss.crls} CRLs` : 'none'}`,
  );
  lines.push(`Verdict:    ${VERDICT[report.verdict]}`);
  if (report.unsignedFields.length) lines.push(`Unsigned:   ${report.unsignedFields.join(', ')}`);
  for (const p of report.problems) lines.push(`! ${p}`);
  report.signatures.forEach((s, i) => {
    lines.push('', ...signatureLines(s, i, report.file.revisions));
  });
  return `${lines.join('\n')}\n`;
}

/** JSON with dates as ISO strings. */
export function reportJson(report: VerificationReport): string {
  return JSON.stringify(report, null, 2);
}
