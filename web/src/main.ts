import { asStudioError } from './api.js';
import { setUpGallery, type Slot } from './gallery.js';
import { say } from './messages.js';
import { setUpPhoto } from './photo.js';
import { apply, pageData, switchLocale, type Locale } from './strings.js';
import { transfer } from './transfer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function main(): Promise<void> {
  const transferButton = $<HTMLButtonElement>('transfer');
  const hint = $('transfer-hint');
  const error = $('transfer-error');
  const resultBox = $('result');
  const beforeImg = $<HTMLImageElement>('before-img');
  const afterImg = $<HTMLImageElement>('after-img');
  const download = $<HTMLAnchorElement>('download');
  const caption = $('result-caption');
  const another = $<HTMLButtonElement>('another-color');
  let busy = false;
  let resultUrls: string[] = [];

  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
    button.addEventListener('click', () => void switchLocale(button.dataset['lang'] as Locale));
  }
  if (pageData.guildId) {
    const note = $('guild-note');
    note.hidden = false;
    say(note, { key: 'studio.gallery.guild', params: { guildId: pageData.guildId } });
  }

  const mode = () => (document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? 'both') as 'shape' | 'color' | 'both';
  const photo = setUpPhoto(() => refresh());
  const gallery = await setUpGallery(pageData.guildId, () => refresh());

  function refresh(): void {
    gallery.setEnabled('shape', mode() !== 'color');
    gallery.setEnabled('color', mode() !== 'shape');
    const ready = photo.faceOk && !busy;
    transferButton.disabled = !ready;
    hint.hidden = photo.faceOk;
    another.disabled = busy || mode() === 'shape';
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) radio.addEventListener('change', refresh);

  async function run(origin: 'studio' | 'studio-recolor'): Promise<void> {
    if (!photo.photo || busy) return;
    busy = true;
    refresh();
    say(error, null);
    const selfie = photo.photo;
    try {
      const { result, done } = await transfer({
        photo: selfie, mode: mode(), shape: gallery.selected('shape' as Slot), color: gallery.selected('color' as Slot), guild: pageData.guildId, origin,
      });
      for (const url of resultUrls) URL.revokeObjectURL(url);
      const before = URL.createObjectURL(selfie);
      const after = URL.createObjectURL(result);
      resultUrls = [before, after];
      beforeImg.src = before;
      afterImg.src = after;
      download.href = after;
      download.download = `hairstyle.${done.format === 'jpeg' ? 'jpg' : done.format}`;
      say(caption, { key: 'studio.result.done', params: { seconds: (done.totalMs / 1000).toFixed(1) } });
      resultBox.hidden = false;
    } catch (caught) {
      say(error, { error: asStudioError(caught) });
    } finally {
      busy = false;
      refresh();
    }
  }

  transferButton.addEventListener('click', () => void run('studio'));
  another.addEventListener('click', () => {
    if (mode() === 'shape') return;
    gallery.next('color');
    void run('studio-recolor');
  });
  apply();
  refresh();
  document.body.dataset['ready'] = 'true';
}

void main();
