import { errorText, onLocaleChange, t, type Params } from './strings.js';
import type { StudioError } from './api.js';

type Message = { error: StudioError } | { key: string; params?: Params };
const shown = new Map<HTMLElement, Message>();

function render(el: HTMLElement, message: Message): void {
  el.textContent = 'error' in message ? errorText(message.error.code, message.error.params) : t(message.key, message.params);
  if ('error' in message) el.dataset['code'] = message.error.code;
  else delete el.dataset['code'];
}

/** Shows a message in an element (an error next to the control that caused it), kept in step with the language. */
export function say(el: HTMLElement, message: Message | null): void {
  if (!message) {
    shown.delete(el);
    el.textContent = '';
    delete el.dataset['code'];
    return;
  }
  shown.set(el, message);
  render(el, message);
}

onLocaleChange(() => {
  for (const [el, message] of shown) render(el, message);
});
