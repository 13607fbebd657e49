/** A short video chosen as the photo: video mode (quick styles on the server only, its own size). */
import { $, els, state } from './page.js';
import { updateMethod } from './settings.js';

const VIDEO_NAME = /\.(mp4|m4v|mov|webm|mkv|avi)$/i;
/** The server paints a video at its own size up to 256 px (DEFAULT_VIDEO_SIZE), the size menu's first choice then. */
const VIDEO_OWN_SIZE = 'as filmed (≤ 256 px)';

export function isVideoFile(file: File): boolean {
  return file.type.startsWith('video/') || (file.type === '' && VIDEO_NAME.test(file.name));
}

/** Video mode: only quick styles on the server paint videos; the other ways are off meanwhile. */
export function setVideoMode(on: boolean): void {
  state.videoMode = on;
  document.body.dataset.videoMode = String(on);
  for (const value of ['stylize', 'browser']) $<HTMLInputElement>(`input[name="method"][value="${value}"]`).disabled = on;
  if (on) $<HTMLInputElement>('input[name="method"][value="fast"]').checked = true;
  const own = [...els.size.options].find((o) => o.value === '');
  if (on && !own) {
    els.size.prepend(new Option(VIDEO_OWN_SIZE, ''));
    els.size.value = '';
  } else if (!on && own) {
    own.remove();
    els.size.value = String(state.options?.qualities.find((q) => q.name === els.quality.value)?.size ?? els.size.options[0]?.value ?? '');
  }
  const note = $<HTMLElement>('#video-note');
  const seconds = state.options?.limits.maxVideoSeconds;
  note.textContent = on ? `A video is painted on the server with a quick style, frame by frame${seconds ? ` (${seconds} s at most)` : ''}.` : '';
  note.hidden = !on;
  updateMethod();
}
