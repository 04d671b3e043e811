import { locale, type Params } from './strings.js';

/** A refusal from the studio: the stable code and its params (texts come from the page's catalog). */
export class StudioError extends Error {
  constructor(readonly code: string, readonly params: Params) {
    super(code);
  }
}

async function failure(response: Response): Promise<StudioError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; params?: Params } };
    if (body.error?.code) return new StudioError(body.error.code, body.error.params ?? {});
  } catch {
    // not our JSON
  }
  return new StudioError(response.status === 429 ? 'RATE_LIMITED' : 'INTERNAL', { seconds: 60, jobId: String(response.status) });
}

/** POSTs a multipart form (fields first, the photo last) and returns the response, or throws StudioError. */
export async function postForm(path: string, fields: Record<string, string | undefined>, photo: Blob): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  form.append('photo', photo, photo instanceof File ? photo.name : 'photo.jpg');
  let response: Response;
  try {
    response = await fetch(path, { method: 'POST', body: form, headers: { 'x-hairstyler-locale': locale() } });
  } catch {
    throw new StudioError('STUDIO_UNAVAILABLE', {});
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { 'x-hairstyler-locale': locale() } });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function getBlob(path: string): Promise<Blob> {
  const response = await fetch(path);
  if (!response.ok) throw await failure(response);
  return await response.blob();
}

export function asStudioError(error: unknown): StudioError {
  return error instanceof StudioError ? error : new StudioError('INTERNAL', { jobId: '-' });
}
