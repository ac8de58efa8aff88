import t from 'tap';
import { contentSecurityPolicy } from '../../src/http/views.ts';
import { build } from '../helper.ts';

t.test('the start page: Swedish, our own stylesheet only, strict security headers', async (t) => {
  const { app } = await build(t);
  const res = await app.inject('/');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/html/);
  t.match(res.body, /<html lang="sv">/);
  t.match(res.body, /Mina samtycken/);
  t.match(res.body, /<link rel="stylesheet" href="\/assets\/app.css">/);
  t.notMatch(res.body, /<script/i, 'no JavaScript');
  t.notMatch(res.body, /(src|href)="https?:\/\//, 'no third-party requests');
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.headers['content-security-policy'], /default-src 'none'/);
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
  const css = await app.inject('/assets/app.css');
  t.equal(css.statusCode, 200);
  t.match(css.headers['content-type'], /text\/css/);
  t.notMatch(css.body, /@import|url\(https?:/, 'the stylesheet loads nothing from elsewhere');
});

t.test('forms may post to the configured identity providers and nowhere else', async (t) => {
  t.equal(
    contentSecurityPolicy(['https://idp.example.se'])
      .split('; ')
      .find((d) => d.startsWith('form-action')),
    "form-action 'self' https://idp.example.se",
  );
  const { app } = await build(t, {
    env: { OIDC_ISSUER: 'https://idp.example.se/oidc', OIDC_CLIENT_SECRET: 's' },
  });
  const res = await app.inject('/');
  t.match(res.headers['content-security-policy'], /form-action 'self' https:\/\/idp\.example\.se(;|$)/);
});
