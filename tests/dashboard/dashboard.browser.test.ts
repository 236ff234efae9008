import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Alerts } from '../../src/alerts/alerts.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import type { SecurityOptions } from '../../src/security/options.js';
import type { ScreenedRequest } from '../../src/security/types.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { withAlerts } from '../monitoring/helpers.js';
import { chromiumAvailable } from '../support/browser.js';
import {
  cspContext,
  cspViolations,
  type ExpectedFailure,
  useChromium,
  watch,
} from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`) driven by playwright-core
 * against a running application (node:http with the `/node` adapter: the monitoring router under
 * /api/v1/monitoring) that serves real traffic through its cache, and whose task queue holds a
 * dead task.
 *
 * The screenshots go to docs/dashboard.png and docs/dashboard-security.png only with
 * UPDATE_SCREENSHOT=1, else to the temp dir.
 */
/** vitest's default of one second is short for a shared two-core CI machine. */
const POLL = { timeout: 10_000 };
const TOKEN = 's3cr3t-dashboard-token';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(ROOT, 'docs/dashboard.png')
    : join(tmpdir(), 'revcopy-enterprise-dashboard.png');
const SECURITY_SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(ROOT, 'docs/dashboard-security.png')
    : join(tmpdir(), 'revcopy-enterprise-dashboard-security.png');

interface App {
  url: string;
  enterprise: Enterprise;
  /** Attempts the always-failing task has made (1 once dead, 2 after a retry from the page). */
  attempts: () => number;
  close: () => Promise<void>;
}

let appSeq = 0;

/**
 * A running application: a plain node:http server built with the `/node` adapter (the monitoring
 * router under /api/v1/monitoring, every other request instrumented), an application route that
 * reads through the cache, real HTTP traffic against it, and a task that died. With `alerts`, the
 * instance has that alerts module (handed in through withAlerts, so the test controls its rules);
 * with `security`, a security module built by the instance at start.
 */
async function startApp(
  auth?: string,
  alerts?: (logger: Enterprise['logger']) => Alerts,
  security?: SecurityOptions,
): Promise<App> {
  const base = createEnterprise({
    logLevel: 'silent',
    env: {},
    tasks: { backend: memoryTaskBackend() },
    // Without `alerts`, an instance with no alerts module (start() would build one otherwise).
    ...(alerts === undefined ? { alerts: false as const } : {}),
    // With `security`, start() builds the security module.
    ...(security === undefined ? {} : { security }),
  });
  const enterprise = alerts === undefined ? base : withAlerts(base, alerts(base.logger));
  let attempts = 0;
  const taskName = `send-report-${process.pid}-${++appSeq}`;
  // A task that always fails and has no retry: it lands in the dead letter queue at once.
  enterprise.tasks.register(
    taskName,
    () => {
      attempts += 1;
      throw new Error('SMTP server refused the <connection>');
    },
    { maxRetries: 0 },
  );
  await enterprise.start();
  const id = await enterprise.tasks.submit(taskName, { to: 'ops@example.com' });
  await waitUntil(
    async () => (await enterprise.tasks.get(id))?.state === 'dead',
    'the task is dead',
  );

  // The application: GET /users/:id, a monitored repository call behind the cache.
  const findUser = enterprise.performance.wrap('UserRepository.find', async (userId: string) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return { id: userId };
  });
  // A latency that swings over ten seconds, so the charts have a shape.
  const swing = () => 1 + Math.sin(Date.now() / 1600);
  const app = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/users\/(\d+)$/.exec(req.url ?? '');
    if (match === null) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const user = await enterprise.cache.getOrSet(`user:${match[1]}`, () => findUser(match[1]!), {
      namespace: 'users',
      ttl: 2,
    });
    await new Promise((resolve) => setTimeout(resolve, swing() * 8));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(user));
  };
  const served = await serveDashboard(enterprise, {
    realtimeIntervalMs: 500,
    ...(auth === undefined ? { public: true } : { auth }),
    handler: app,
    instrument: { routeOf: (req) => (req.url?.startsWith('/users/') ? '/users/:id' : undefined) },
    shutdown: true,
  });
  const { origin } = served;

  // Real requests against the application, a few every 100 ms.
  const inFlight = new Set<Promise<unknown>>();
  let n = 0;
  const traffic = setInterval(() => {
    for (let i = 0; i < 2 + Math.round(swing() * 2); i++) {
      const request = fetch(`${origin}/users/${n++ % 5}`)
        .then((response) => response.arrayBuffer())
        .catch(() => {});
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
  }, 100);
  traffic.unref();

  return {
    url: served.url,
    enterprise,
    attempts: () => attempts,
    close: async () => {
      clearInterval(traffic);
      await Promise.allSettled(inFlight);
      // Ends the open event streams and shuts the instance down (shutdownOnClose).
      await served.close();
    },
  };
}

async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Failed responses are part of some scenarios (a 401 before the token, a 501 of a disabled module),
 * each test names its own: no 501 passes unless listed.
 */
const watchPage = (page: Page, expected: ExpectedFailure[] = []) =>
  watch(page, expected, { ignore501: false });

/** Light and still, for the screenshots. */
const newContext = (browser: Browser) =>
  cspContext(browser, { colorScheme: 'light', reducedMotion: 'reduce' });

/** The `seq` of the last snapshot the page rendered (0 before the first). */
const seq = (page: Page) =>
  page.evaluate(() => Number((globalThis as any).document.body.dataset.seq ?? 0));

/** Waits until the page has rendered the snapshot numbered `n` or a later one. */
const seqAtLeast = (page: Page, n: number) =>
  page.waitForFunction((min) => Number((globalThis as any).document.body.dataset.seq) >= min, n);

describe.runIf(chromiumAvailable)('dashboard in headless Chromium', () => {
  const browser = useChromium();

  it('shows live figures, retries a dead task, under the strict CSP and without console errors', async () => {
    const app = await startApp();
    const context = await newContext(browser());
    try {
      const page = await context.newPage();
      const problems = watchPage(page, [{ status: 501, path: /\/(security\/monitoring|alerts)$/ }]);
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(app.url) && !request.url().startsWith('data:')) {
          external.push(request.url());
        }
      });
      const response = await page.goto(`${app.url}/dashboard`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

      // Live: the header and the figures change from one snapshot to the next.
      await seqAtLeast(page, 1);
      await expect.poll(() => page.textContent('#connection'), POLL).toBe('Live');
      const before = { seq: await seq(page), uptime: await page.textContent('#uptime') };
      await page.click('#tab-performance');
      await seqAtLeast(page, before.seq + 2);
      // Uptime is shown in whole seconds and snapshots come every 500 ms: two snapshots may still
      // show the same second when their timers run a little early, so the test waits for a change.
      await expect.poll(() => page.textContent('#uptime'), POLL).not.toBe(before.uptime);
      const rate = await page.textContent('#req-rate');
      expect(rate).toMatch(/\d/);
      const hint1 = await page.textContent('#req-errors-hint');
      await expect.poll(() => page.textContent('#req-errors-hint'), POLL).not.toBe(hint1);
      await expect
        .poll(() => page.locator('#operations tbody tr').allTextContents(), POLL)
        .toEqual(expect.arrayContaining([expect.stringContaining('UserRepository.find')]));
      // Two charts drawn by uPlot in the performance view.
      expect(await page.locator('#view-performance .uplot').count()).toBe(2);

      // Keyboard: arrow keys move between tabs (WAI-ARIA tabs pattern).
      await page.focus('#tab-performance');
      await page.keyboard.press('ArrowRight');
      expect(await page.getAttribute('#tab-cache', 'aria-selected')).toBe('true');
      expect(await page.isVisible('#view-cache')).toBe(true);
      await expect.poll(() => page.textContent('#cache-ratio'), POLL).toMatch(/%/);
      expect(await page.locator('#cache-namespaces tbody tr').allTextContents()).toEqual([
        expect.stringContaining('users'),
      ]);
      await page.keyboard.press('End');
      expect(await page.getAttribute('#tab-security', 'aria-selected')).toBe('true');
      await expect.poll(() => page.isVisible('#security-disabled'), POLL).toBe(true);
      expect(await page.isVisible('#security-content')).toBe(false);
      // Without an alerts module the Alerts view says so, and the tab counts nothing.
      await page.keyboard.press('ArrowLeft');
      expect(await page.getAttribute('#tab-alerts', 'aria-selected')).toBe('true');
      await expect.poll(() => page.isVisible('#alerts-disabled'), POLL).toBe(true);
      expect(await page.isVisible('#alerts-content')).toBe(false);
      expect(await page.isVisible('#alerts-tab-count')).toBe(false);

      // Health view: components with a status.
      await page.keyboard.press('Home');
      expect(await page.isVisible('#view-health')).toBe(true);
      await expect
        .poll(() => page.locator('#components tbody tr').count(), POLL)
        .toBeGreaterThan(0);
      expect(await page.textContent('#components')).toContain('event-loop');

      // Screenshot of the performance view with a few seconds of chart.
      await page.click('#tab-performance');
      // Updating the committed artifact waits for a fuller chart; ordinary runs do not.
      await page.waitForTimeout(process.env.UPDATE_SCREENSHOT === '1' ? 15_000 : 1000);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: false });

      // Tasks: the dead task, retried from the page, runs again on the server.
      await page.click('#tab-tasks');
      const row = page.locator('#dead-letters tbody tr').first();
      await expect
        .poll(() => row.textContent(), POLL)
        .toContain('SMTP server refused the <connection>');
      expect(app.attempts()).toBe(1);
      const deadKey = await row.getAttribute('data-key');
      await row.getByRole('button', { name: /Retry/ }).click();
      await expect.poll(() => page.textContent('#dlq-status'), POLL).toContain('was sent back');
      await waitUntil(() => app.attempts() === 2, 'the retried task ran again');
      // The row updates: marked retried, then replaced by the task's second death (it always fails).
      await expect
        .poll(async () => {
          const first = page.locator('#dead-letters tbody tr').first();
          return (await first.getAttribute('data-key')) !== deadKey
            ? 'replaced'
            : await first.getAttribute('data-state');
        }, POLL)
        .toMatch(/^(replaced|retried)$/);

      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 45_000);

  it('shows firing alerts in the Alerts view; Ack and Silence act on them through the API', async () => {
    let alerts!: Alerts;
    const app = await startApp(TOKEN, (logger) => {
      alerts = new Alerts({ logger, deliver: () => {} });
      alerts.rule({
        name: 'CheckoutSlow',
        watch: () => 1250,
        condition: { above: 800 },
        severity: 'critical',
        labels: { service: 'checkout' },
        summary: 'checkout p95 is {{value}} ms',
      });
      alerts.rule({
        name: 'QueueBacklog',
        watch: () => 40,
        condition: { above: 10 },
        for: '10m',
        labels: { queue: 'emails' },
        summary: '{{value}} tasks waiting',
      });
      return alerts;
    });
    await alerts.evaluate();
    const slowFingerprint = alerts.list().find((a) => a.rule === 'CheckoutSlow')!.fingerprint;
    // One statement takes all of the database time: a recommendation.
    for (let i = 0; i < 4; i++) {
      app.enterprise.performance.record('db.query', 400, {
        labels: { statement: 'SELECT * FROM orders WHERE customer_id = ?' },
      });
    }
    const api = async (path: string) => {
      const response = await fetch(`${app.url}${path}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status, path).toBe(200);
      return (await response.json()) as any;
    };
    const context = await newContext(browser());
    try {
      const page = await context.newPage();
      const problems = watchPage(page, [{ status: 401, path: /\/performance\/realtime$/ }]);
      await page.goto(`${app.url}/dashboard`);
      // The alerts calls use the token the rest of the page uses.
      await page.getByRole('dialog', { name: 'Access token' }).waitFor({ state: 'visible' });
      await page.fill('#auth-token', TOKEN);
      await page.click('#auth-submit');
      await seqAtLeast(page, 1);
      // The tab counts the firing alerts from the live snapshots.
      await expect.poll(() => page.textContent('#alerts-tab-count'), POLL).toBe('1 firing');

      await page.click('#tab-alerts');
      const row = (rule: string) => page.locator('#alerts-active tbody tr', { hasText: rule });
      await expect
        .poll(() => row('CheckoutSlow').textContent(), POLL)
        .toContain('checkout p95 is 1250 ms');
      expect(await row('CheckoutSlow').textContent()).toMatch(/critical.*firing/);
      expect(await row('QueueBacklog').textContent()).toMatch(/warning.*pending.*40 tasks waiting/);
      expect(await page.textContent('#alerts-firing')).toBe('1');
      expect(await page.textContent('#alerts-firing-hint')).toBe('1 critical');
      await expect
        .poll(() => page.textContent('#alerts-history'), POLL)
        .toContain('inactive → firing');
      await expect
        .poll(() => page.textContent('#recommendations'), POLL)
        .toContain('One statement takes 100 % of the database time');

      // Ack: the alert is acknowledged on the server, by the router's default actor.
      await row('CheckoutSlow')
        .getByRole('button', { name: /^Acknowledge CheckoutSlow/ })
        .click();
      await expect
        .poll(() => page.textContent('#alerts-status'), POLL)
        .toContain('CheckoutSlow {service=checkout} was acknowledged');
      const listed = await api('/alerts');
      expect(listed.firing).toEqual([
        expect.objectContaining({
          fingerprint: slowFingerprint,
          acknowledged: expect.objectContaining({ by: 'monitoring' }),
        }),
      ]);
      expect(alerts.get(slowFingerprint)?.acknowledged?.by).toBe('monitoring');
      const acked = row('CheckoutSlow').getByRole('button', { name: /acknowledged by monitoring/ });
      await expect.poll(() => acked.isDisabled(), POLL).toBe(true);
      await expect.poll(() => page.textContent('#alerts-acknowledged'), POLL).toBe('1');

      // Silence: one hour on the alert's labels, with the comment typed in the form.
      await row('QueueBacklog')
        .getByRole('button', { name: /^Silence QueueBacklog/ })
        .click();
      const form = page.getByRole('dialog', { name: 'Silence for one hour' });
      await form.waitFor({ state: 'visible' });
      expect(await page.textContent('#silence-matchers')).toContain('queue="emails"');
      await page.fill('#silence-comment', 'the mail provider is down, known');
      await page.click('#silence-submit');
      await form.waitFor({ state: 'hidden' });
      const { silences } = await api('/alerts/silences');
      expect(silences).toEqual([
        expect.objectContaining({
          status: 'active',
          createdBy: 'monitoring',
          comment: 'the mail provider is down, known',
          matchers: expect.arrayContaining([
            { name: 'alertname', value: 'QueueBacklog', op: '=' },
            { name: 'queue', value: 'emails', op: '=' },
          ]),
        }),
      ]);
      expect(Date.parse(silences[0].endsAt) - Date.parse(silences[0].startsAt)).toBe(3_600_000);
      await expect
        .poll(() => page.textContent('#alerts-silenced-list'), POLL)
        .toContain('QueueBacklog');
      await expect.poll(() => page.locator('#alerts-active tbody tr').count(), POLL).toBe(1);
      expect(await page.textContent('#silences')).toContain('the mail provider is down, known');

      // A rule that starts firing shows up without a reload of the page.
      alerts.rule({ name: 'ErrorBurst', watch: () => 9, condition: { above: 5 } });
      await alerts.evaluate();
      await expect.poll(() => row('ErrorBurst').count(), POLL).toBe(1);
      await expect.poll(() => page.textContent('#alerts-tab-count'), POLL).toBe('2 firing');

      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 45_000);

  it('shows the security score, threats and bans live; bans a client from the form and unbans it', async () => {
    const app = await startApp(TOKEN, undefined, {});
    const security = app.enterprise.security;
    const probe = (remoteAddress: string, path: string, query: string, ua = 'Mozilla/5.0') =>
      security.inspect({
        method: 'GET',
        path,
        query,
        headers: { 'user-agent': ua },
        remoteAddress,
      } satisfies ScreenedRequest);
    // An attack before the page opens: SQL injection from a scanner, and failed logins.
    await probe(
      '203.0.113.7',
      '/search',
      "q=1'%20UNION%20SELECT%20password%20FROM%20users--",
      'sqlmap/1.7',
    );
    for (let i = 0; i < 4; i++) {
      security.recordLogin({ userId: 'ada', ip: '198.51.100.9', success: false });
    }
    security.recordLogin({ userId: 'bob', ip: '198.51.100.10', success: true });
    const context = await newContext(browser());
    try {
      const page = await context.newPage();
      // The view opens before the token is given, and one ban below is refused on purpose.
      const problems = watchPage(page, [
        { status: 401, path: /\/(performance\/realtime|security\/monitoring)$/ },
        { status: 400, path: /\/security\/bans$/ },
      ]);
      await page.goto(`${app.url}/dashboard#security`);
      await page.getByRole('dialog', { name: 'Access token' }).waitFor({ state: 'visible' });
      await page.fill('#auth-token', TOKEN);
      await page.click('#auth-submit');
      await seqAtLeast(page, 1);
      expect(await page.getAttribute('#tab-security', 'aria-selected')).toBe('true');

      // The score gauge with its components, and the threats of the attack.
      await expect.poll(() => page.isVisible('#security-content'), POLL).toBe(true);
      expect(await page.isVisible('#security-disabled')).toBe(false);
      await expect.poll(() => page.textContent('#security-score'), POLL).toMatch(/^\d+(\.\d)?$/);
      expect(await page.getAttribute('#security-gauge', 'aria-label')).toMatch(
        /^Security score: \d+(\.\d)? of 100$/,
      );
      expect(await page.locator('#security-components tbody tr').allTextContents()).toEqual(
        expect.arrayContaining([
          expect.stringContaining('threats'),
          expect.stringContaining('failed-logins'),
          expect.stringContaining('hygiene'),
        ]),
      );
      expect(await page.textContent('#security-categories')).toContain('sql-injection');
      expect(await page.textContent('#security-categories')).toContain('scanner');
      expect(await page.textContent('#security-failed-logins')).toBe('4');
      expect(await page.textContent('#security-login-rate')).toContain('success 20 %');
      expect(await page.textContent('#security-login-addresses')).toContain('198.51.100.9');
      expect(await page.textContent('#security-clients')).toContain('203.0.113.7');
      // The threats chart of the last hour, drawn by uPlot with one line per category.
      await expect.poll(() => page.locator('#chart-threats .uplot').count(), POLL).toBe(1);
      expect(await page.textContent('#chart-threats')).toContain('sql-injection');

      // A threat of a new category shows up live, from the stream, without a reload.
      await probe('198.51.100.77', '/files', 'name=..%2F..%2F..%2Fetc%2Fpasswd');
      await expect
        .poll(() => page.textContent('#security-events'), POLL)
        .toContain('path-traversal');
      await expect
        .poll(() => page.textContent('#security-categories'), POLL)
        .toContain('path-traversal');

      // Ban a client from the form: listed on the page and in force on the server.
      await page.fill('#ban-client', '192.0.2.55');
      await page.selectOption('#ban-duration', '24h');
      await page.fill('#ban-reason', 'scraping the catalogue');
      await page.click('#ban-submit');
      await expect
        .poll(() => page.textContent('#security-status'), POLL)
        .toContain('192.0.2.55 is banned for 24 hours');
      const banRow = page.locator('#security-bans tbody tr', { hasText: '192.0.2.55' });
      await expect.poll(() => banRow.count(), POLL).toBe(1);
      expect(await banRow.textContent()).toContain('scraping the catalogue');
      expect(security.bans()).toEqual([
        expect.objectContaining({ client: '192.0.2.55', reason: 'scraping the catalogue' }),
      ]);
      const banned = await probe('192.0.2.55', '/', '');
      expect(banned.refusal?.reason).toBe('banned');
      await expect.poll(() => page.textContent('#security-ban-count'), POLL).toBe('1');
      mkdirSync(dirname(SECURITY_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SECURITY_SCREENSHOT, fullPage: true });

      // A refused ban says why.
      await page.fill('#ban-client', 'not-an-address');
      await page.fill('#ban-reason', 'typo');
      await page.click('#ban-submit');
      await expect
        .poll(() => page.textContent('#security-status'), POLL)
        .toContain('is not an IP address or CIDR range');

      // Unban: gone from the page and from the server.
      await banRow.getByRole('button', { name: 'Unban 192.0.2.55' }).click();
      await expect
        .poll(() => page.textContent('#security-status'), POLL)
        .toContain('192.0.2.55 is no longer banned');
      await expect.poll(() => banRow.count(), POLL).toBe(0);
      expect(security.bans()).toEqual([]);
      expect(await page.isVisible('#security-bans-empty')).toBe(true);

      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 45_000);

  it('asks for the token when the router requires one, keeps it for the tab, then works', async () => {
    const app = await startApp(TOKEN);
    const context = await newContext(browser());
    try {
      const page = await context.newPage();
      const problems = watchPage(page, [{ status: 401, path: /\/performance\/realtime$/ }]);
      await page.goto(`${app.url}/dashboard`);
      const dialog = page.getByRole('dialog', { name: 'Access token' });
      await dialog.waitFor({ state: 'visible' });
      expect(await page.textContent('#connection')).toBe('Access token required');

      // A wrong token is refused and asked again.
      await page.fill('#auth-token', 'wrong');
      await page.press('#auth-token', 'Enter');
      await expect.poll(() => page.isVisible('#auth-error'), POLL).toBe(true);
      await page.fill('#auth-token', TOKEN);
      await page.click('#auth-submit');
      await dialog.waitFor({ state: 'hidden' });
      await seqAtLeast(page, 2);
      expect(await page.textContent('#connection')).toBe('Live');
      expect(await page.evaluate(() => (globalThis as any).sessionStorage.length as number)).toBe(
        1,
      );

      // A reload in the same tab reuses the stored token: no prompt.
      await page.reload();
      await seqAtLeast(page, 1);
      expect(await dialog.isVisible()).toBe(false);

      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 30_000);
});
