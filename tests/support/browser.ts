// Headless Chromium for the browser tests: Debian's `chromium` package (CHROMIUM_PATH points
// elsewhere: another distribution, a local build), driven by playwright-core.
import { type Browser, chromium } from 'playwright-core';
import { requires, tool } from './requirements.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Chromium is installed (under CI=true its absence fails instead of skipping). */
export const chromiumAvailable = requires(
  tool(CHROMIUM, 'install it with `apt-get install chromium` (Debian package)'),
);

/** Headless, without the sandbox (containers), the GPU or any background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
