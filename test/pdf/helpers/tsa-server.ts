// A local RFC 3161 time-stamping service for tests: HTTP on 127.0.0.1, answers with `openssl ts
// -reply` and a throwaway TSA certificate (helpers/pki.ts), whose root publishes a CRL (for SIGNING_CRLS).
// Modes make it misbehave on purpose.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as der from '../../../src/pdf/der.ts';
import { issueCrl, OID, pemEncode } from '../../../src/pdf/pki.ts';
import { makeTsaPki, type TestCa } from './pki.ts';

const run = promisify(execFile);

export type TsaMode = 'ok' | 'http-500' | 'garbage' | 'other-imprint';

export interface LocalTsa {
  url: string;
  /** PEM of the TSA's root: the anchor to trust its tokens. */
  rootPem: string;
  /** The TSA's root CA. */
  root: TestCa;
  /** The root's CRL (PEM, current for a week): what SIGNING_CRLS would name for this TSA. */
  crlFile: string;
  dir: string;
  mode: TsaMode;
  /** Answers this many milliseconds late (a slow service; the signing benchmark uses 1 s). */
  delayMs: number;
  requests: number;
  close(): Promise<void>;
}

/** A time-stamp request for other data than asked: what a confused or malicious TSA would sign. */
function otherImprintRequest(): Buffer {
  return der.seq(
    der.smallInteger(1),
    der.seq(der.algorithm(OID.sha256), der.octets(createHash('sha256').update('something else').digest())),
    der.boolean(true),
  );
}

export async function startTsa(): Promise<LocalTsa> {
  const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-tsa-'));
  const pki = makeTsaPki();
  writeFileSync(path.join(dir, 'tsa.pem'), pki.certPem);
  writeFileSync(path.join(dir, 'tsa.key'), pki.keyPem);
  writeFileSync(path.join(dir, 'chain.pem'), pki.root.pem);
  writeFileSync(path.join(dir, 'serial'), '01\n');
  const crl = issueCrl({
    issuer: pki.root.issuer,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + 7 * 86_400_000),
    number: 1,
  });
  writeFileSync(path.join(dir, 'root.crl'), pemEncode(crl, 'X509 CRL'));
  writeFileSync(
    path.join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = local',
      '[ local ]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'crypto_device = builtin',
      'signer_cert = $dir/tsa.pem',
      'certs = $dir/chain.pem',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 1.2.752.0.1.3161',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );

  let n = 0;
  let replies: Promise<unknown> = Promise.resolve();
  const tsa: LocalTsa = {
    url: '',
    rootPem: pki.root.pem,
    root: pki.root,
    crlFile: path.join(dir, 'root.crl'),
    dir,
    mode: 'ok',
    delayMs: 0,
    requests: 0,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      tsa.requests++;
      if (tsa.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, tsa.delayMs));
      if (tsa.mode === 'http-500') {
        res.writeHead(500).end('broken');
        return;
      }
      if (tsa.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end('not DER at all');
        return;
      }
      const id = ++n;
      const query = path.join(dir, `q${id}.tsq`);
      const reply = path.join(dir, `r${id}.tsr`);
      writeFileSync(query, tsa.mode === 'other-imprint' ? otherImprintRequest() : Buffer.concat(chunks));
      try {
        // One `openssl ts -reply` at a time: concurrent ones race on the serial file.
        const reply$ = replies.then(() =>
          run('openssl', [
            'ts',
            '-reply',
            '-config',
            path.join(dir, 'tsa.cnf'),
            '-queryfile',
            query,
            '-out',
            reply,
          ]),
        );
        replies = reply$.catch(() => {});
        await reply$;
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(reply));
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tsa.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return tsa;
}
