import { asStudioError, postForm } from './api.js';
import { say } from './messages.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface PhotoState {
  /** The photo as the user gave it (a file, or a captured frame); it never leaves the browser except to be tried on. */
  photo: Blob | undefined;
  /** True once the studio found a usable face in it. */
  faceOk: boolean;
}

/**
 * Upload (picker or drag-and-drop) or webcam (getUserMedia, flip, capture); each photo goes to /api/face, and the
 * page shows the aligned face the try-on will use — or the studio's error, right here.
 */
export function setUpPhoto(onChange: (state: PhotoState) => void): PhotoState {
  const state: PhotoState = { photo: undefined, faceOk: false };
  const upload = $('upload-panel');
  const webcam = $('webcam-panel');
  const file = $<HTMLInputElement>('photo-file');
  const video = $<HTMLVideoElement>('camera');
  const flip = $<HTMLInputElement>('camera-flip');
  const start = $<HTMLButtonElement>('camera-start');
  const capture = $<HTMLButtonElement>('camera-capture');
  const photoFigure = $('photo-figure');
  const photoImg = $<HTMLImageElement>('photo-img');
  const faceFigure = $('face-figure');
  const faceImg = $<HTMLImageElement>('face-img');
  const status = $('photo-status');
  const error = $('photo-error');
  let stream: MediaStream | undefined;
  let urls: string[] = [];

  const show = (img: HTMLImageElement, blob: Blob) => {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    img.src = url;
  };

  async function usePhoto(photo: Blob): Promise<void> {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    state.photo = photo;
    state.faceOk = false;
    onChange(state);
    say(error, null);
    faceFigure.hidden = true;
    show(photoImg, photo);
    photoFigure.hidden = false;
    say(status, { key: 'studio.face.checking' });
    try {
      const response = await postForm('/api/face', {}, photo);
      if (state.photo !== photo) return;
      show(faceImg, await response.blob());
      faceFigure.hidden = false;
      state.faceOk = true;
      say(status, null);
    } catch (caught) {
      if (state.photo !== photo) return;
      say(status, null);
      say(error, { error: asStudioError(caught) });
    }
    onChange(state);
  }

  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen) void usePhoto(chosen);
  });
  upload.addEventListener('dragover', (event) => {
    event.preventDefault();
    upload.classList.add('over');
  });
  upload.addEventListener('dragleave', () => upload.classList.remove('over'));
  upload.addEventListener('drop', (event) => {
    event.preventDefault();
    upload.classList.remove('over');
    const dropped = event.dataTransfer?.files[0];
    if (dropped) void usePhoto(dropped);
  });

  function stopCamera(): void {
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = undefined;
    video.srcObject = null;
    capture.disabled = true;
  }

  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) {
    radio.addEventListener('change', () => {
      const useWebcam = radio.value === 'webcam' && radio.checked;
      upload.hidden = useWebcam;
      webcam.hidden = !useWebcam;
      if (!useWebcam) stopCamera();
    });
  }

  flip.addEventListener('change', () => video.classList.toggle('mirrored', flip.checked));

  start.addEventListener('click', async () => {
    say(error, null);
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'user' }, audio: false });
      video.srcObject = stream;
      await video.play();
      capture.disabled = false;
    } catch (caught) {
      say(error, { key: 'studio.camera.failed', params: { reason: (caught as Error).name || String(caught) } });
    }
  });

  capture.addEventListener('click', () => {
    if (!video.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext('2d')!;
    // What the user saw is what they get: a mirrored preview captures a mirrored photo.
    if (flip.checked) {
      context.translate(canvas.width, 0);
      context.scale(-1, 1);
    }
    context.drawImage(video, 0, 0);
    canvas.toBlob((blob) => {
      if (blob) void usePhoto(blob);
    }, 'image/jpeg', 0.92);
  });

  return state;
}
