/**
 * The gallery: every result, newest first, each card with the painting large and the photo and
 * the painting it came from small beside it. It stays live over the server's gallery stream
 * (jobs started in another tab or before a reload turn from "painting" to their result), pages
 * 60 at a time, and shows the results painted in this browser beside the server's.
 */
import { ApiError, deleteJob, Job, listJobs, thumbnailUrl, watchGallery } from './api.js';
import { deleteLocalResult, listLocalResults, LocalResult } from './local-results.js';
import { downloadName } from './words.js';

const PAGE = 60;

export interface GalleryActions {
  open(job: Job): void;
  openLocal(result: LocalResult): void;
  rerun(job: Job): void;
  /** A job is gone: the user deleted it here (called before the server is asked) or elsewhere. */
  deleted(id: string): void;
  /** A job changed (from the live stream). */
  changed(job: Job): void;
  /** A thumbnail for a quick style (its painting, where the server has one). */
  styleThumb(name: string): string | null;
  error(message: string): void;
}

export class Gallery {
  private readonly jobs = new Map<string, Job>();
  private local: LocalResult[] = [];
  private total = 0;
  private readonly progress = new Map<string, number>();
  private readonly urls = new Map<string, string>();
  /** Jobs being deleted: their late previews are not fetched (their files are going). */
  private readonly deleting = new Set<string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly more: HTMLButtonElement,
    private readonly count: HTMLElement,
    private readonly actions: GalleryActions,
  ) {
    more.addEventListener('click', () => this.loadMore().catch((e) => actions.error(String(e.message ?? e))));
  }

  /** Loads the first page and starts following the live stream. */
  async start(): Promise<void> {
    // The stream opens before the first page is read, so no change falls between the two.
    let first = true;
    watchGallery({
      onOpen: () => {
        // After a reconnect anything may have changed: load the first page again.
        if (!first) this.reload().catch(() => undefined);
        first = false;
      },
      onJob: (job) => {
        if (!this.jobs.has(job.id)) this.total++;
        this.jobs.set(job.id, job);
        this.progress.delete(job.id);
        this.render();
        this.actions.changed(job);
      },
      onProgress: (id, iteration, iterations) => {
        if (!this.jobs.has(id)) return;
        this.progress.set(id, iteration / iterations);
        this.updateProgress(id);
      },
      onPreview: (id) => {
        if (this.deleting.has(id)) return;
        const card = this.card(id);
        const img = card?.querySelector<HTMLImageElement>('img.main');
        if (img) img.src = thumbnailUrl(id, 'preview', 320, String(Date.now()));
      },
      onDeleted: (id) => this.forget(id),
    });
    await this.reload();
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** The newest job still queued or running, if any. */
  running(): Job | undefined {
    return [...this.jobs.values()].find((j) => j.status === 'queued' || j.status === 'running');
  }

  add(job: Job): void {
    if (!this.jobs.has(job.id)) this.total++;
    this.jobs.set(job.id, job);
    this.render();
  }

  async reload(): Promise<void> {
    const [{ jobs, total }, local] = await Promise.all([listJobs(PAGE, 0), listLocalResults()]);
    // The first page is replaced; older pages loaded with "Show more" stay.
    const previous = this.jobs.size > PAGE ? [...this.jobs.values()] : [];
    this.jobs.clear();
    for (const j of jobs) this.jobs.set(j.id, j);
    for (const j of previous) if (!this.jobs.has(j.id)) this.jobs.set(j.id, j);
    this.total = total;
    this.local = local;
    this.render();
  }

  async loadMore(): Promise<void> {
    const { jobs, total } = await listJobs(PAGE, this.jobs.size);
    for (const j of jobs) if (!this.jobs.has(j.id)) this.jobs.set(j.id, j);
    this.total = total;
    this.render();
  }

  async reloadLocal(): Promise<void> {
    this.local = await listLocalResults();
    this.render();
  }

  private forget(id: string): void {
    if (this.jobs.delete(id)) this.total = Math.max(0, this.total - 1);
    this.card(id)?.remove();
    this.actions.deleted(id);
    this.render();
  }

  private card(id: string): HTMLElement | null {
    return this.root.querySelector<HTMLElement>(`.card[data-job-id="${id}"]`);
  }

  private updateProgress(id: string): void {
    const card = this.card(id);
    const share = this.progress.get(id);
    if (!card || share === undefined) return;
    const bar = card.querySelector('progress');
    if (bar) bar.value = share;
    const badge = card.querySelector('.badge');
    if (badge) badge.textContent = `painting · ${Math.round(share * 100)} %`;
  }

  private render(): void {
    const items: { at: string; el: HTMLElement }[] = [
      ...[...this.jobs.values()].map((j) => ({ at: j.createdAt, el: this.jobCard(j) })),
      ...this.local.map((r) => ({ at: r.createdAt, el: this.localCard(r) })),
    ];
    items.sort((a, b) => b.at.localeCompare(a.at));
    this.root.replaceChildren(...items.map((i) => i.el));
    if (!items.length) this.root.textContent = 'Nothing yet: your paintings will hang here.';
    for (const id of this.progress.keys()) this.updateProgress(id);
    const loaded = this.jobs.size;
    this.more.hidden = loaded >= this.total;
    this.more.textContent = `Show more (${this.total - loaded} older)`;
    const all = this.total + this.local.length;
    this.count.textContent = all ? `${all}` : '';
  }

  private jobCard(job: Job): HTMLElement {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.jobId = job.id;
    card.dataset.status = job.status;
    const running = job.status === 'queued' || job.status === 'running';
    const main = job.result
      ? thumbnailUrl(job.id, 'result', 480, job.finishedAt ?? '')
      : running && job.checkpointIteration !== null
        ? thumbnailUrl(job.id, 'preview', 320, String(job.checkpointIteration))
        : thumbnailUrl(job.id, job.inputs.content ? 'content' : 'style', 320);
    const badge = running ? (job.status === 'queued' ? 'waiting' : 'painting') : job.status === 'succeeded' ? '' : STATUS_WORDS[job.status] ?? job.status;
    // A fit job has a painting only.
    const sources = job.inputs.content ? [thumbnailUrl(job.id, 'content', 96)] : [];
    const style = job.inputs.style ? thumbnailUrl(job.id, 'style', 96) : this.actions.styleThumb(String(job.params.fastStyle ?? ''));
    if (style) sources.push(style);
    const clip = job.method === 'video' && job.result ? { src: `${job.result.url.replace(/^\//, '')}?v=${encodeURIComponent(job.finishedAt ?? '')}`, poster: main } : undefined;
    const art = this.art(main, describeShort(job), badge, sources, clip);
    art.addEventListener('click', () => this.actions.open(job));
    const body = document.createElement('div');
    body.className = 'body';
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = titleOf(job);
    const meta = document.createElement('div');
    meta.className = `meta status-${job.status}`;
    meta.textContent = metaOf(job);
    body.append(title, meta);
    if (running) {
      const bar = document.createElement('progress');
      bar.max = 1;
      bar.value = job.progress ? job.progress.iteration / job.progress.iterations : 0;
      body.append(bar);
    }
    const row = document.createElement('div');
    row.className = 'row';
    const again = button('Paint again', 'rerun', () => this.actions.rerun(job));
    again.title = 'Load this photo, painting and settings into the form';
    row.append(again);
    if (job.result) {
      const a = document.createElement('a');
      a.href = `${job.result.url.replace(/^\//, '')}?download`;
      a.textContent = 'Download';
      a.className = 'button';
      row.append(a);
    }
    const del = button('Delete', 'delete', async () => {
      if (!confirm('Delete this painting?')) return;
      this.deleting.add(job.id);
      this.actions.deleted(job.id);
      try {
        await deleteJob(job.id).catch((e) => {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        });
        this.forget(job.id);
      } catch (e) {
        this.actions.error(String((e as Error).message ?? e));
      } finally {
        this.deleting.delete(job.id);
      }
    });
    row.append(del);
    body.append(row);
    card.append(art, body);
    return card;
  }

  private localCard(r: LocalResult): HTMLElement {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.localId = r.id;
    card.dataset.status = 'succeeded';
    let url = this.urls.get(r.id);
    if (!url) this.urls.set(r.id, (url = URL.createObjectURL(r.blob)));
    const style = this.actions.styleThumb(r.style);
    const art = this.art(url, `${r.photoName} in the style of ${r.style}`, 'in this browser', style ? [style] : []);
    art.addEventListener('click', () => this.actions.openLocal(r));
    const body = document.createElement('div');
    body.className = 'body';
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = `${r.photoName} × ${r.style}`;
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `quick style in this browser · ${r.width}×${r.height} · ${when(r.createdAt)}`;
    const row = document.createElement('div');
    row.className = 'row';
    const a = document.createElement('a');
    a.href = url;
    a.download = downloadName(r.photoName, r.style, '.png');
    a.textContent = 'Download';
    a.className = 'button';
    const del = button('Delete', 'delete', async () => {
      if (!confirm('Delete this painting?')) return;
      await deleteLocalResult(r.id).catch(() => undefined);
      URL.revokeObjectURL(url!);
      this.urls.delete(r.id);
      await this.reloadLocal();
    });
    row.append(a, del);
    body.append(title, meta, row);
    card.append(art, body);
    return card;
  }

  /** The card's picture: an image, or a painted video (its poster until the pointer is on it, then it plays). */
  private art(src: string, alt: string, badge: string, sources: string[], clip?: { src: string; poster: string }): HTMLButtonElement {
    const art = document.createElement('button');
    art.type = 'button';
    art.className = 'art';
    art.title = 'Show it large';
    if (clip) {
      const video = document.createElement('video');
      video.className = 'main';
      video.muted = true;
      video.loop = true;
      video.playsInline = true;
      video.preload = 'metadata';
      video.poster = clip.poster;
      video.src = clip.src;
      video.setAttribute('aria-label', alt);
      art.addEventListener('pointerenter', () => video.play().catch(() => undefined));
      art.addEventListener('pointerleave', () => video.pause());
      art.append(video);
    } else {
      const img = document.createElement('img');
      img.className = 'main';
      img.alt = alt;
      img.loading = 'lazy';
      img.src = src;
      art.append(img);
    }
    if (badge) {
      const b = document.createElement('span');
      b.className = 'badge';
      b.textContent = badge;
      art.append(b);
    }
    const box = document.createElement('span');
    box.className = 'sources';
    for (const s of sources) {
      const i = document.createElement('img');
      i.src = s;
      i.alt = '';
      i.loading = 'lazy';
      box.append(i);
    }
    art.append(box);
    return art;
  }
}

const STATUS_WORDS: Record<string, string> = { failed: 'failed', cancelled: 'stopped', interrupted: 'interrupted' };

function button(text: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

/** "tubingen × starry night" */
export function titleOf(job: Job): string {
  if (job.method === 'fit') return `${job.inputs.style?.name.replace(/\.[a-z0-9]+$/i, '') ?? 'painting'} → quick style`;
  const name = (role: string) => {
    const input = job.inputs[role];
    if (!input) return String(job.params.fastStyle ?? '');
    return input.name.replace(/^.*\//, '').replace(/\.[a-z0-9]+$/i, '').replace(/_/g, ' ');
  };
  return `${name('content')} × ${job.inputs.style ? name('style') : String(job.params.fastStyle ?? '').replace(/_/g, ' ')}`;
}

function describeShort(job: Job): string {
  return `${titleOf(job)} (${job.status})`;
}

function metaOf(job: Job): string {
  const how =
    job.method === 'stylize' ? 'any painting'
    : job.method === 'video' ? 'video · quick style'
    : job.method === 'fit' ? `learnt as '${String(job.result?.details?.style ?? job.params.styleName ?? '…')}'`
    : 'quick style';
  const parts = job.method === 'fit' ? [how] : [how, job.params.size ? `${job.params.size} px` : 'as filmed'];
  if (job.result) parts.push(formatSeconds(job.result.seconds));
  if (job.status === 'failed') parts.push(`failed: ${job.error ?? 'unknown error'}`);
  else if (job.status !== 'succeeded') parts.push(STATUS_WORDS[job.status] ?? (job.status === 'queued' ? 'waiting' : 'painting'));
  parts.push(when(job.createdAt));
  return parts.join(' · ');
}

function when(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}
