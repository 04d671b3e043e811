import { asStudioError, getJson } from './api.js';
import { say } from './messages.js';
import { locale, onLocaleChange, t } from './strings.js';

export interface GalleryPreset {
  id: string;
  name: { en: string; ko: string };
  kind: 'shape' | 'color' | 'both';
  thumbnail: string;
}

export type Slot = 'shape' | 'color';

/** The preset galleries: one radio group of thumbnails per slot (a `both` preset appears in each). */
export async function setUpGallery(guildId: string | null, onChange: () => void) {
  const error = document.getElementById('gallery-error')!;
  const tiles = (slot: Slot) => document.querySelector<HTMLElement>(`#${slot}-gallery .tiles`)!;
  let presets: GalleryPreset[] = [];
  try {
    presets = (await getJson<{ presets: GalleryPreset[] }>(`/api/presets${guildId ? `?guild=${guildId}` : ''}`)).presets;
  } catch (caught) {
    say(error, { error: asStudioError(caught) });
  }
  const fits = (p: GalleryPreset, slot: Slot) => p.kind === 'both' || p.kind === slot;

  function render(slot: Slot): void {
    const container = tiles(slot);
    const picked = selected(slot);
    container.replaceChildren();
    const list = presets.filter((p) => fits(p, slot));
    if (list.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'note';
      empty.textContent = t('studio.gallery.empty');
      container.append(empty);
    }
    list.forEach((preset, i) => {
      const label = document.createElement('label');
      label.className = 'tile';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = slot;
      input.value = preset.id;
      input.checked = picked ? picked === preset.id : i === 0;
      input.addEventListener('change', onChange);
      const img = document.createElement('img');
      img.src = preset.thumbnail;
      img.alt = '';
      img.loading = 'lazy';
      const name = document.createElement('span');
      name.textContent = preset.name[locale()];
      label.append(input, img, name);
      container.append(label);
    });
  }

  function selected(slot: Slot): string | undefined {
    return document.querySelector<HTMLInputElement>(`#${slot}-gallery input[name="${slot}"]:checked`)?.value;
  }

  render('shape');
  render('color');
  onLocaleChange(() => {
    render('shape');
    render('color');
  });

  return {
    selected,
    /** Picks the next preset of a slot after the current one (wrapping); returns its id. */
    next(slot: Slot): string | undefined {
      const inputs = [...document.querySelectorAll<HTMLInputElement>(`#${slot}-gallery input[name="${slot}"]`)];
      if (inputs.length === 0) return undefined;
      const index = inputs.findIndex((input) => input.checked);
      const following = inputs[(index + 1) % inputs.length]!;
      following.checked = true;
      return following.value;
    },
    setEnabled(slot: Slot, enabled: boolean): void {
      document.querySelector<HTMLFieldSetElement>(`#${slot}-gallery`)!.disabled = !enabled;
    },
  };
}
