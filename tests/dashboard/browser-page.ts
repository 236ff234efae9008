// Shared by the Schedules and Analytics browser suites: a browser context that records CSP
// violations, and a page watcher for console errors and uncaught page errors.
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** A context whose pages record their CSP violations (see `cspViolations`). */
export async function cspContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // Page-side code reaches the DOM through `globalThis`: this project compiles without the DOM lib.
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

/**
 * Console errors and warnings and uncaught page errors. A disabled module's 501 is part of the
 * page's normal life (Chromium logs every non-2xx fetch as a console error); `allowed` adds others.
 */
export function watch(page: Page, allowed: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    if (text.includes('status of 501') || allowed.some((re) => re.test(text))) return;
    problems.push(`console.${message.type()}: ${text}`);
  });
  return problems;
}

/** Elements with a `style` attribute: the page must have none (CSP `style-src 'self'`). */
export const styleAttributes = (page: Page) =>
  page.evaluate(() => (globalThis as any).document.querySelectorAll('[style]').length as number);
