/**
 * The PIN consent page in a real browser (Debian chromium via playwright-core): a person sees who asks
 * for what, types the PIN, clicks "Authorize access" and lands on the client's redirect URI with a
 * code, state and iss; a wrong PIN shows the error; the page refuses to be framed by another origin.
 * Screenshots go to test-results/browser/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserContext, CHROMIUM, CHROMIUM_ARGS, type Page, playwright } from '../support/deps.js';
import {
  LIVE_PIN,
  type LiveClient,
  type LiveServer,
  registerLive,
  s256,
  startLiveClient,
  startLiveServer,
} from '../support/live.js';

const available = existsSync(CHROMIUM);
const required = Boolean(process.env.PORTCULLIS_REQUIRE_SERVICES);
const SHOTS = join(process.cwd(), 'test-results', 'browser');

describe.skipIf(!available && !required)('consent page in chromium', () => {
  let server: LiveServer;
  let client: LiveClient;
  let framer: LiveClient;
  let context: BrowserContext;
  let profile: string;
  let clientId: string;
  const verifier = 'browser-test-verifier-0123456789-abcdefghijklmnop';

  beforeAll(async () => {
    if (!available) throw new Error(`${CHROMIUM} is missing and PORTCULLIS_REQUIRE_SERVICES is set`);
    await mkdir(SHOTS, { recursive: true });
    server = await startLiveServer();
    client = await startLiveClient('127.0.0.1');
    // Another origin (another host name and port) that tries to frame the authorization page.
    framer = await startLiveClient('localhost');
    const registered = await registerLive(server.url, {
      redirect_uris: [`${client.url}/callback`],
      client_name: 'Browser Test Client',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    clientId = registered.client_id!;
    profile = await mkdtemp(join(tmpdir(), 'portcullis-chromium-'));
    context = await playwright.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await Promise.all([server?.close(), client?.close(), framer?.close()]);
  });

  async function authorizeUrl(state: string): Promise<string> {
    const url = new URL(`${server.url}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: `${client.url}/callback`,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      scope: 'mcp',
      state,
      resource: `${server.url}/mcp`,
    }).toString();
    return url.toString();
  }

  async function openPinPage(state: string): Promise<Page> {
    const page = await context.newPage();
    const response = await page.goto(await authorizeUrl(state));
    expect(response?.status()).toBe(200);
    return page;
  }

  it('shows the client and scope, takes the PIN and lands on the redirect with code, state and iss', async () => {
    const page = await openPinPage('state-approve-1');
    await expect.poll(() => page.title()).toContain('Browser Test Client');
    const main = page.locator('main');
    expect(await main.isVisible()).toBe(true);
    expect(await main.locator('h1').textContent()).toContain('Browser Test Client');
    expect(await main.locator('.scopes li').allTextContents()).toEqual(['mcp']);
    expect(await main.textContent()).toContain(`${server.url}/mcp`);
    expect(await main.textContent()).toContain(client.url); // where the user will be sent
    await page.screenshot({ path: join(SHOTS, 'pin-page.png'), fullPage: true });

    await page.locator('#pin').fill(LIVE_PIN);
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(`${client.url}/callback`)),
      page.getByRole('button', { name: 'Authorize access' }).click(),
    ]);
    await page.screenshot({ path: join(SHOTS, 'client-callback.png') });
    expect(await page.locator('#result').textContent()).toBe('code received');

    const landed = new URL(page.url());
    expect(landed.searchParams.get('state')).toBe('state-approve-1');
    expect(landed.searchParams.get('iss')).toBe(server.url);
    const code = landed.searchParams.get('code')!;
    expect(code).toMatch(/^pcac_/);
    const callbacks = client.arrivals.filter((a) => a.path === '/callback');
    expect(callbacks.at(-1)?.query.get('code')).toBe(code);

    // The code the browser carried works exactly once at the token endpoint.
    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${client.url}/callback`,
        code_verifier: verifier,
        client_id: clientId,
      }),
    });
    expect(token.status).toBe(200);
    expect((await token.json()).access_token).toMatch(/^pcat_/);
    await page.close();
  });

  it('shows the error on a wrong PIN and stays on the page; Deny returns access_denied', async () => {
    const page = await openPinPage('state-wrong-pin');
    await page.locator('#pin').fill('000000000');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/authorize/pin')),
      page.getByRole('button', { name: 'Authorize access' }).click(),
    ]);
    expect(response.status()).toBe(401);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Wrong PIN');
    expect(page.url()).toBe(`${server.url}/authorize/pin`);
    await page.screenshot({ path: join(SHOTS, 'wrong-pin.png'), fullPage: true });
    expect(server.events).toContainEqual({ type: 'login_failed', upstream: 'pin', reason: 'wrong PIN' });

    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(`${client.url}/callback`)),
      page.getByRole('button', { name: 'Deny' }).click(),
    ]);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('state')).toBe('state-wrong-pin');
    expect(landed.searchParams.has('code')).toBe(false);
    await page.close();
  });

  it('refuses to be framed by another origin', async () => {
    const target = await authorizeUrl('state-framed');
    framer.page(
      '/frame',
      `<!doctype html><title>Framing attempt</title><h1>Win a prize</h1><iframe id="victim" src="${target.replace(/&/g, '&amp;')}" width="600" height="600"></iframe>`,
    );
    const page = await context.newPage();
    const framed = page.waitForResponse((r) => r.url().startsWith(`${server.url}/authorize`));
    await page.goto(`${framer.url}/frame`);
    const response = await framed;
    expect(response.headers()['x-frame-options']).toBe('DENY');
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");

    const frame = await (await page.locator('#victim').elementHandle())!.contentFrame();
    expect(frame).not.toBeNull();
    await expect
      .poll(async () => frame!.evaluate(() => document.querySelector('#pin') === null).catch(() => true))
      .toBe(true);
    // Chromium replaces a blocked frame by its error page; the PIN form never renders inside it.
    expect(frame!.url()).toMatch(/^chrome-error:/);
    expect(
      await frame!
        .locator('#pin')
        .count()
        .catch(() => 0),
    ).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'framing-blocked.png') });
    await page.close();
  });
});
