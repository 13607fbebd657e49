/** The photo and painting slots: upload, drag and drop, or the server's samples. */
import type { Sample } from './api.js';
import { $, clearErrors, rel, Role, showError, state } from './page.js';
import { tile } from './sample-tile.js';
import { isVideoFile, setVideoMode } from './video-mode.js';

export function sampleName(id: string): string {
  return state.samples.find((s) => s.id === id)?.name ?? id;
}

export function showChoices(role: Role): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const img = $<HTMLImageElement>('.drop img.chosen', slot);
  const name = $<HTMLElement>('.chosen-name', slot);
  const clip = slot.querySelector<HTMLVideoElement>('.drop video.chosen-video');
  let url: string | null = null;
  const labels: string[] = [];
  if (role === 'content') {
    const c = state.content;
    if (c.file) {
      url = URL.createObjectURL(c.file);
      labels.push(`${c.file.name} (${Math.round(c.file.size / 1024)} KiB)`);
    } else if (c.sample) {
      url = `api/samples/${c.sample}?size=512`;
      labels.push(`sample: ${sampleName(c.sample)}`);
    }
  } else {
    const s = state.style;
    if (s.file) {
      url = URL.createObjectURL(s.file);
      labels.push(`${s.file.name} (${Math.round(s.file.size / 1024)} KiB)`);
    }
    if (s.samples.length) {
      url ??= `api/samples/${s.samples[0]}?size=512`;
      labels.push(...s.samples.map(sampleName));
    }
  }
  const video = role === 'content' && state.videoMode;
  if (clip) {
    clip.hidden = !(video && url);
    if (video && url) {
      clip.src = url;
      clip.play().catch(() => undefined);
    } else {
      clip.pause();
      clip.removeAttribute('src');
    }
  }
  if (url && !video) img.src = url;
  img.hidden = !url || video;
  name.textContent = role === 'style' && labels.length > 1 ? `${labels.length} paintings: ${labels.join(', ')}` : labels.join('');
  const chosen = role === 'content' ? [state.content.sample] : state.style.samples;
  slot.querySelectorAll<HTMLButtonElement>('.samples button').forEach((b) => b.setAttribute('aria-pressed', String(chosen.includes(b.dataset.id!))));
}

function chooseFile(role: Role, file: File): void {
  clearErrors();
  const video = role === 'content' && isVideoFile(file);
  if (!video && !file.type.startsWith('image/') && file.type !== '') {
    showError(`${file.name} does not look like ${role === 'content' ? 'a photo or a video' : 'an image'}`, role);
    return;
  }
  const maxVideoBytes = state.options?.limits.maxVideoBytes;
  if (video && maxVideoBytes && file.size > maxVideoBytes) {
    showError(`${file.name} is ${Math.round(file.size / 1048576)} MiB: the server takes videos up to ${Math.round(maxVideoBytes / 1048576)} MiB`, role);
    return;
  }
  if (role === 'content') {
    state.content = { file, sample: null };
    if (video !== state.videoMode) setVideoMode(video);
  }
  else state.style = { file, samples: [] };
  showChoices(role);
}

function toggleSample(role: Role, sample: Sample): void {
  clearErrors();
  if (role === 'content') {
    state.content = { file: null, sample: sample.id };
    if (state.videoMode) setVideoMode(false);
  } else {
    const list = state.style.samples;
    state.style.samples = list.includes(sample.id) ? list.filter((x) => x !== sample.id) : [...list, sample.id];
  }
  showChoices(role);
}

export function setUpSlot(role: Role): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const input = $<HTMLInputElement>(`#${role}-file`);
  input.addEventListener('change', () => {
    if (input.files?.[0]) chooseFile(role, input.files[0]);
    input.value = '';
  });
  const drop = $<HTMLElement>('.drop', slot);
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) chooseFile(role, file);
  });
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
}

export function renderSamples(): void {
  for (const role of ['content', 'style'] as Role[]) {
    const box = $<HTMLElement>(`#${role}-samples`);
    box.dataset.empty = 'no samples on this server';
    box.replaceChildren(...state.samples.filter((x) => x.kind === role).map((s) => tile(s.id, s.name, `${rel(s.url)}?size=160`, false, () => toggleSample(role, s))));
  }
}
