// JSON bodies are UTF-8 (RFC 8259 §8.1). Fastify's own parser reads any body as UTF-8 whatever charset it
// declares, and puts U+FFFD where the bytes are not UTF-8, so a name sent as ISO-8859-1 arrived with its
// å, ä and ö silently replaced. Here a body declared in another charset is refused with 415, and one
// whose bytes are not UTF-8 with 400; what is left goes to Fastify's parser as before (prototype
// poisoning refused, the body limit as set).
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

export function strictJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset))
      return done(new AppError('unsupported_media_type', 'Skicka JSON som UTF-8.'), undefined);
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new AppError('bad_request', 'Innehållet är inte giltig UTF-8.'), undefined);
    }
    parse(request, text, done);
  });
}
