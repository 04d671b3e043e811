import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/shared/i18n/index.js';
import { artifact, launchChromium, photoToY4m, startTestStudio, type TestStudio } from '../helpers/studio.js';

/**
 * The studio in a real browser (Debian's Chromium), in-process path: the engine runs in the studio (no Redis).
 * Stories as a person would do them, located by role and label; a screenshot per story in test-artifacts/studio.
 */
// These run inside the page (page.evaluate and friends); the test program itself has no DOM types.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const MutationObserver: any;

const ASTRONAUT = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));
const COFFEE = fileURLToPath(new URL('../fixtures/coffee.png', import.meta.url));

let t: TestStudio;
let browser: Browser;
let context: BrowserContext | undefined;
const problems: string[] = [];

beforeAll(async () => {
  // Two try-ons from this machine's one address may run at once here (the queue-position story needs two).
  t = await startTestStudio('in-process', { USER_MAX_ACTIVE_JOBS: '2' });
  browser = await launchChromium({ y4m: await photoToY4m(ASTRONAUT) });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(t.logLines.slice(-40).join('\n'));
  await context?.close();
  context = undefined;
});

/** A fresh context per story; console errors other than the expected HTTP refusals count as problems. */
async function open(options: { locale?: string; viewport?: { width: number; height: number }; query?: string } = {}): Promise<Page> {
  context = await browser.newContext({ locale: options.locale ?? 'en-US', acceptDownloads: true, viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  problems.length = 0;
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  // Every text the progress line shows, to see the stages went by (they pass quickly with the contract graphs).
  await page.addInitScript(() => {
    const seen: string[] = [];
    window.progressSeen = seen;
    document.addEventListener('DOMContentLoaded', () => {
      const line = document.getElementById('progress-text');
      if (line) new MutationObserver(() => seen.push(line.textContent ?? '')).observe(line, { childList: true, characterData: true, subtree: true });
    });
  });
  await page.goto(`${t.studio.url}${options.query ?? ''}`);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

async function transferAndWait(page: Page, button = 'Transfer', after = 'After'): Promise<void> {
  const before = await page.locator('#after-img').getAttribute('src');
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForFunction((old) => {
    const img = document.getElementById('after-img');
    return !!img && !!img.src && img.src !== old && img.complete && img.naturalWidth > 0 && !document.getElementById('result')!.hidden;
  }, before, { timeout: 60_000 });
  await page.getByRole('img', { name: after }).waitFor();
}

describe('studio in a browser: the engine in this process', () => {
  it('upload the astronaut → the face found, a result with a before/after slider, downloadable; another color in one click', async () => {
    const page = await open();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByLabel('Choose a photo').setInputFiles(ASTRONAUT);
    await page.getByRole('img', { name: 'The face the try-on will use' }).waitFor();
    expect(await page.getByRole('img', { name: 'The face the try-on will use' }).evaluate((img: any) => img.naturalWidth)).toBe(256);

    await page.getByRole('group', { name: 'Hair shape' }).getByRole('radio', { name: 'Short layered', exact: true }).check();
    await page.getByRole('radio', { name: 'Copper' }).check();
    await transferAndWait(page);
    const seen: string[] = await page.evaluate(() => window.progressSeen);
    expect(seen.some((line) => line.includes('styling your hair'))).toBe(true);
    expect(await page.locator('img-comparison-slider').isVisible()).toBe(true);
    expect(await page.getByRole('img', { name: 'Before' }).count()).toBe(1);
    await page.screenshot({ path: artifact('upload-result.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('hairstyle.jpg');
    const bytes = readFileSync((await download.path())!);
    const meta = await sharp(bytes).metadata();
    const astronaut = await sharp(ASTRONAUT).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([astronaut.width, astronaut.height]);

    // The result left the server when the page took it.
    const firstAfter = await page.locator('#after-img').getAttribute('src');
    await transferAndWait(page, 'Another color');
    expect(await page.getByRole('radio', { name: 'Platinum' }).isChecked()).toBe(true);
    expect(await page.locator('#after-img').getAttribute('src')).not.toBe(firstAfter);
    expect(problems).toEqual([]);
  });

  it('webcam: the fake camera shows the astronaut → capture (mirrored by default) → the face → result', async () => {
    const page = await open();
    await page.getByRole('radio', { name: 'Use the webcam' }).check();
    await page.getByRole('button', { name: 'Start the camera' }).click();
    const capture = page.getByRole('button', { name: 'Capture image' });
    await page.waitForFunction(() => !document.getElementById('camera-capture').disabled);
    expect(await page.getByLabel('Flip').isChecked()).toBe(true);
    expect(await page.getByLabel('Webcam preview').evaluate((v: any) => v.videoWidth)).toBe(640);
    await capture.click();
    await page.getByRole('img', { name: 'The face the try-on will use' }).waitFor();
    await page.screenshot({ path: artifact('webcam-captured.png'), fullPage: true });
    await transferAndWait(page);
    // The result is the captured frame's size: the photo came from the camera, not from a file.
    const size = await page.getByRole('img', { name: 'After' }).evaluate((img: any) => [img.naturalWidth, img.naturalHeight]);
    expect(size).toEqual([640, 480]);
    expect(problems).toEqual([]);
  });

  it('a text file and a photo without a face: the error appears next to the photo, and Transfer stays off', async () => {
    const page = await open();
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some text, not a picture\n') });
    const error = page.getByRole('alert').filter({ hasText: errorMessage('en', 'UNSUPPORTED_FORMAT') });
    await error.waitFor();
    expect(await page.getByRole('button', { name: 'Transfer', exact: true }).isDisabled()).toBe(true);

    await page.getByLabel('Choose a photo').setInputFiles(COFFEE);
    await page.getByRole('alert').filter({ hasText: errorMessage('en', 'NO_FACE') }).waitFor();
    expect(await page.getByRole('img', { name: 'The face the try-on will use' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Transfer', exact: true }).isDisabled()).toBe(true);
    await page.screenshot({ path: artifact('no-face.png'), fullPage: true });
  });

  it('Korean from Accept-Language, errors in Korean, and the switch back to English keeps the page', async () => {
    const page = await open({ locale: 'ko-KR' });
    expect(await page.locator('html').getAttribute('lang')).toBe('ko');
    await page.getByRole('heading', { name: '헤어스타일러 스튜디오' }).waitFor();
    expect(await page.getByRole('button', { name: '변환', exact: true }).count()).toBe(1);
    await page.getByLabel('사진 선택').setInputFiles(COFFEE);
    await page.getByRole('alert').filter({ hasText: errorMessage('ko', 'NO_FACE') }).waitFor();
    expect(await page.getByRole('radio', { name: '코퍼' }).count()).toBe(1);
    await page.screenshot({ path: artifact('korean.png'), fullPage: true });

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Hairstyler studio' }).waitFor();
    await page.getByRole('alert').filter({ hasText: errorMessage('en', 'NO_FACE') }).waitFor();
    expect(await page.getByRole('radio', { name: 'Copper' }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('two try-ons at once: the second shows its place in the queue and an ETA, then its own result', async () => {
    const first = await open();
    const firstContext = context!;
    context = undefined;
    const second = await open();
    for (const page of [first, second]) {
      await page.getByLabel('Choose a photo').setInputFiles(ASTRONAUT);
      await page.getByRole('img', { name: 'The face the try-on will use' }).waitFor();
    }
    // One finished try-on gives the studio its ETA; then two at once.
    await transferAndWait(first);
    // On a fast machine the first try-on can finish before the second arrives: try the pair again (at most 3 times).
    let queued = false;
    for (let attempt = 0; attempt < 3 && !queued; attempt++) {
      await first.getByRole('button', { name: 'Transfer', exact: true }).click();
      await first.getByRole('status').filter({ hasText: 'Working' }).waitFor();
      await transferAndWait(second);
      const seen: string[] = await second.evaluate(() => window.progressSeen);
      queued = seen.some((line) => /In the queue: position 1\. Ready in about \d+ s\./.test(line));
      await first.getByRole('img', { name: 'After' }).waitFor();
    }
    expect(queued).toBe(true);
    await firstContext.close();
  });

  it('desktop and phone width: everything reachable, nothing wider than the screen (screenshots for docs/)', async () => {
    for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
      const page = await open({ viewport });
      await page.getByLabel('Choose a photo').setInputFiles(ASTRONAUT);
      await page.getByRole('img', { name: 'The face the try-on will use' }).waitFor();
      await transferAndWait(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const path = artifact(`studio-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      if (process.env.STUDIO_DOCS_SCREENSHOTS === '1') await sharp(path).png({ palette: true, quality: 90, effort: 10 }).toFile(`docs/studio-${name}.png`);
      await context?.close();
      context = undefined;
    }
  });
});
