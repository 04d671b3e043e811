import { asStudioError, getBlob, postForm, StudioError } from './api.js';
import { say } from './messages.js';
import { t } from './strings.js';

export interface TransferRequest {
  photo: Blob;
  shape?: string | undefined;
  color?: string | undefined;
  mode: 'shape' | 'color' | 'both';
  guild?: string | null;
  origin: 'studio' | 'studio-recolor';
}

type StudioEvent =
  | { type: 'queued'; position: number; etaAt?: number }
  | { type: 'stage'; stage: string }
  | { type: 'done'; format: string; width: number; height: number; totalMs: number }
  | { type: 'error'; code: string; params: Record<string, string | number | boolean> };

const STAGE_STEP: Record<string, number> = { queued: 0, downloading: 1, detecting: 2, aligning: 3, transferring: 4, uploading: 5 };

/**
 * One try-on: POST /api/transfer, then its Server-Sent Events (queue position and ETA, stages), then the result
 * fetched once as a blob — the studio forgets it then; the page keeps it for the slider and the download.
 */
export async function transfer(request: TransferRequest): Promise<{ result: Blob; done: Extract<StudioEvent, { type: 'done' }> }> {
  const bar = document.getElementById('progress-bar') as HTMLProgressElement;
  const text = document.getElementById('progress-text')!;
  const box = document.getElementById('progress')!;
  box.hidden = false;
  bar.value = 0;
  say(text, { key: 'studio.progress.queued', params: { position: '…' } });

  const response = await postForm('/api/transfer', {
    mode: request.mode,
    shape: request.mode === 'color' ? undefined : request.shape,
    color: request.mode === 'shape' ? undefined : request.color,
    guild: request.guild ?? undefined,
    origin: request.origin,
  }, request.photo);
  const { ticket } = (await response.json()) as { ticket: string };

  const done = await new Promise<Extract<StudioEvent, { type: 'done' }>>((resolve, reject) => {
    const source = new EventSource(`/api/jobs/${ticket}/events`);
    source.onmessage = (message) => {
      const event = JSON.parse(message.data as string) as StudioEvent;
      if (event.type === 'queued') {
        const seconds = event.etaAt ? Math.max(1, Math.round((event.etaAt - Date.now()) / 1000)) : undefined;
        const line = t('studio.progress.queued', { position: event.position }) + (seconds ? ` ${t('studio.progress.eta', { seconds })}` : '');
        say(text, null);
        text.textContent = line;
        bar.value = 0;
      } else if (event.type === 'stage') {
        say(text, { key: 'studio.progress.stage', params: { stage: t(`stage.${event.stage}`) } });
        bar.value = STAGE_STEP[event.stage] ?? 0;
      } else if (event.type === 'done') {
        source.close();
        bar.value = bar.max;
        resolve(event);
      } else {
        source.close();
        reject(new StudioError(event.code, event.params));
      }
    };
    source.onerror = () => {
      // EventSource reconnects by itself; a ticket the studio no longer knows means the try-on is gone.
      if (source.readyState === EventSource.CLOSED) reject(new StudioError('JOB_NOT_FOUND', {}));
    };
  }).finally(() => {
    box.hidden = true;
  });
  try {
    return { result: await getBlob(`/api/jobs/${ticket}/result`), done };
  } catch (caught) {
    throw asStudioError(caught);
  }
}
