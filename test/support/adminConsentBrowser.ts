import assert from 'node:assert/strict';
import { fetch } from 'undici';
import type { SimHarness } from './simHarness';

/**
 * A customer's admin in a browser: reads Microsoft's (the simulator's) consent page, posts its form back
 * with the choice, and follows the redirect to the daemon's loopback listener. Answers the page shown last.
 */
export async function adminConsentBrowser(sim: SimHarness, consentUrl: string, decision: 'accept' | 'cancel'): Promise<{ status: number; page: string }> {
  const page = await fetch(consentUrl, { dispatcher: sim.dispatcher });
  assert.equal(page.status, 200, 'the consent page');
  const text = await page.text();
  const action = text.match(/<form method="post" action="([^"]+)"/)?.[1];
  assert.ok(action, 'the page has a form');
  const form = new URLSearchParams({ decision });
  for (const [, name, value] of text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name ?? '', (value ?? '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))));
  }
  const answer = await fetch(new URL(action, sim.sim.url), {
    method: 'POST',
    dispatcher: sim.dispatcher,
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  assert.equal(answer.status, 302, 'Microsoft redirects back');
  const back = await fetch(new URL(answer.headers.get('location') ?? ''));
  return { status: back.status, page: await back.text() };
}
