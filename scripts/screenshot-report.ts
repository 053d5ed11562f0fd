/**
 * Takes the README's screenshot of a report: `npx tsx scripts/screenshot-report.ts <report.html> docs/report.png`.
 * Uses Debian's Chromium through playwright-core (a dev dependency), as the report's test does.
 */
import { pathToFileURL } from 'node:url';

import { launchChromium } from '../test/helpers/browser';

async function screenshot(html: string, png: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-ready="true"]');
    await page.screenshot({ path: png, fullPage: false });
  } finally {
    await browser.close();
  }
}

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: tsx scripts/screenshot-report.ts <report.html> <out.png>');
  process.exit(2);
}
screenshot(html, png).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
