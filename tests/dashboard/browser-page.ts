// Shared by the dashboard's browser suites (and the docs page's): Chromium for a suite, a browser
// context that records CSP violations, and a page watcher for console and uncaught page errors.
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from '../support/browser.js';

/**
 * Launches headless Chromium before the tests of the enclosing `describe` and closes it after
 * them. Returns the getter the tests read it through: it exists only once `beforeAll` has run.
 */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined) {
      throw new Error('Chromium is not launched yet: read it inside a test');
    }
    return browser;
  };
}

/**
 * A context whose pages record their CSP violations (see `cspViolations`). `options` add to or
 * replace the default 1280×860 viewport (a colour scheme for screenshots, a taller page).
 */
export async function cspContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  // Violations are also logged to the console; the event names the directive precisely. Page-side
  // code reaches the DOM through `globalThis`: this project compiles without the DOM lib.
  await context.addInitScript(() => {
    const page = globalThis as any;
    page.__cspViolations = [];
    page.document.addEventListener('securitypolicyviolation', (event: any) => {
      page.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return context;
}

/** The CSP violations of a page of a `cspContext`. */
export const cspViolations = (page: Page) =>
  page.evaluate(() => (globalThis as any).__cspViolations as string[]);

/** A failed response that is part of the scenario: its status, and the path that answers it. */
export interface ExpectedFailure {
  status: number;
  path: RegExp;
}

/** How strict `watch` is beyond its `allowed` list. */
export interface WatchOptions {
  /** Let every 501 pass, whatever its path (a disabled module). @defaultValue true */
  ignore501?: boolean;
  /** Also report each request off 127.0.0.1: the page loads nothing from elsewhere. @defaultValue false */
  loopbackOnly?: boolean;
}

/**
 * Console errors and warnings and uncaught page errors. Chromium logs every non-2xx fetch as a
 * console error: a disabled module's 501 is part of the page's normal life unless `ignore501` is
 * false, and `allowed` lets others pass, as a pattern of the message or as a status and the path
 * of the resource it failed on.
 */
export function watch(
  page: Page,
  allowed: (RegExp | ExpectedFailure)[] = [],
  { ignore501 = true, loopbackOnly = false }: WatchOptions = {},
): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    const url = message.location().url ?? '';
    const path = () => new URL(url || 'http://x').pathname;
    const passes = allowed.some((allowance) =>
      allowance instanceof RegExp
        ? allowance.test(text)
        : text.includes(`status of ${allowance.status}`) && allowance.path.test(path()),
    );
    if ((ignore501 && text.includes('status of 501')) || passes) return;
    problems.push(`console.${message.type()}: ${text}${url === '' ? '' : ` (${url})`}`);
  });
  if (loopbackOnly) {
    page.on('request', (request) => {
      if (!request.url().startsWith('http://127.0.0.1')) problems.push(`external ${request.url()}`);
    });
  }
  return problems;
}

/** Elements with a `style` attribute: the page must have none (CSP `style-src 'self'`). */
export const styleAttributes = (page: Page) =>
  page.evaluate(() => (globalThis as any).document.querySelectorAll('[style]').length as number);
