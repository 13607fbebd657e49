/**
 * "Details" of a job, readable: what was painted from what (names and sizes), the settings in
 * words, how long it took and on what, and the loss curve stage by stage; the raw JSON report is
 * one click away (its link at the bottom of the panel).
 */
import type { Job, LossRow } from './api.js';
import { LossChart } from './chart.js';
import { formatSeconds, titleOf } from './gallery.js';
import { TRANSFER_WORDS } from './transfer-methods.js';
import { PRESET_WORDS } from './words.js';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** The report the server keeps of a job (GET /api/jobs/{id}/report): the job, its losses, the software. */
interface Report extends Job {
  lossHistory?: { rows: LossRow[] };
  software?: { name: string; version: string };
}

const KIND_WORDS: Record<string, string> = { stylize: 'any painting', fast: 'quick style', video: 'video, quick style', fit: 'a painting learnt as a quick style' };

/** The panel's rows, [label, words], for a job and its report. */
export function detailRows(job: Report): [string, string][] {
  const p = job.params;
  const rows: [string, string][] = [];
  const image = (role: string) => {
    const i = job.inputs[role];
    if (!i) return null;
    const clip = i.video ? ` · ${formatSeconds(i.video.seconds)}, ${i.video.frames} frames` : '';
    return `${i.name.replace(/^.*\//, '')} · ${i.width}×${i.height}${clip}`;
  };
  const photo = image('content');
  if (photo) rows.push(['Photo', photo]);
  const painting = image('style');
  if (painting) rows.push(['Painting', painting]);
  else if (p.fastStyle) rows.push(['Quick style', String(p.fastStyle).replace(/_/g, ' ')]);
  if (job.result) {
    const r = job.result;
    const format = typeof p.format === 'string' ? ` · ${p.format.toUpperCase()}` : job.result.poster ? ' · video' : '';
    rows.push(['Result', `${r.width}×${r.height}${format}${r.partial ? ' · stopped early (the painting so far)' : ''}`]);
  }
  const how = [KIND_WORDS[job.method] ?? job.method];
  if (job.method === 'stylize') {
    const name = String(p.transferMethod ?? 'gatys');
    how.push(`method ${TRANSFER_WORDS[name]?.label.replace(/ · .*/, '') ?? name}`);
    if (p.quality) how.push(`${p.quality} quality`);
  }
  rows.push(['How', how.join(' · ')]);
  const settings: string[] = [];
  if (p.size) settings.push(`${p.size} px`);
  if (job.method === 'stylize') {
    settings.push(`${job.result?.iterations ?? p.iterations} steps${job.result ? ` (of ${p.iterations} at most)` : ' at most'}`);
    if (p.alpha !== undefined) settings.push(`photo kept ${Math.round(Number(p.alpha) * 100)} % (α ${p.alpha})`);
    else settings.push(`style weight ${p.styleWeight} (the usual is 100), photo weight ${p.contentWeight}`);
    if (p.preset) settings.push(`copies ${PRESET_WORDS[String(p.preset)] ?? String(p.preset)}`);
    if (p.seed !== undefined) settings.push(`seed ${p.seed}`);
  } else if (p.strength !== undefined) settings.push(`${Math.round(Number(p.strength) * 100)} % style`);
  if (p.preserveColors === 'luminance' || p.preserveColors === true) settings.push("the photo's colours");
  else if (p.preserveColors === 'histogram') settings.push('the painting recoloured like the photo');
  if (settings.length) rows.push(['Settings', settings.join(' · ')]);
  const time: string[] = [];
  if (job.startedAt) {
    const waited = (Date.parse(job.startedAt) - Date.parse(job.createdAt)) / 1000;
    if (waited >= 1) time.push(`waited ${formatSeconds(waited)}`);
  }
  if (job.result) {
    const rate = job.method === 'stylize' && job.result.seconds > 0 ? ` (${(job.result.iterations / job.result.seconds).toPrecision(2)} steps/s)` : '';
    time.push(`painted in ${formatSeconds(job.result.seconds)}${rate}`);
  } else if (job.progress) time.push(`${formatSeconds(job.progress.elapsedSeconds)} so far`);
  if (job.finishedAt) time.push(`finished ${new Date(job.finishedAt).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`);
  if (job.resumes?.length) time.push(`resumed ${job.resumes.length}× after a restart`);
  if (time.length) rows.push(['Time', time.join(' · ')]);
  const d = job.result?.details ?? {};
  const machine = [d.device, d.precision, d.threads ? `${d.threads} threads` : null].filter(Boolean).join(' · ');
  if (machine) rows.push(['Computed on', String(machine)]);
  if (job.error) rows.push([job.status === 'failed' ? 'Why it failed' : 'Note', job.error]);
  return rows;
}

export class DetailsPanel {
  private readonly dialog = $<HTMLDialogElement>('#details');
  private readonly list = $<HTMLElement>('#details-list');
  private readonly chartBox = $<HTMLElement>('#details-chart-box');
  private readonly chart = new LossChart($<HTMLCanvasElement>('#details-chart'));
  private readonly raw = $<HTMLAnchorElement>('#report');

  constructor() {
    $<HTMLButtonElement>('#details-close').addEventListener('click', () => this.dialog.close());
    // A click on the backdrop (outside the panel's box) closes it too.
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) {
        const r = this.dialog.getBoundingClientRect();
        if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) this.dialog.close();
      }
    });
  }

  /** The raw report's link (kept current with the job on the stage, hidden with none). */
  link(job: Job | null): void {
    if (job) this.raw.href = job.links.report.replace(/^\//, '');
    else this.raw.removeAttribute('href');
    this.raw.hidden = !job;
  }

  async open(job: Job): Promise<void> {
    this.link(job);
    $<HTMLElement>('#details-title').textContent = titleOf(job);
    this.fill(job);
    this.dialog.showModal();
    try {
      const res = await fetch(job.links.report.replace(/^\//, ''));
      if (!res.ok) return;
      const report = (await res.json()) as Report;
      this.fill(report);
    } catch {
      // the job's own fields are shown already
    }
  }

  private fill(job: Report): void {
    this.list.replaceChildren(
      ...detailRows(job).flatMap(([label, words]) => {
        const dt = document.createElement('dt');
        dt.textContent = label;
        const dd = document.createElement('dd');
        dd.textContent = words;
        return [dt, dd];
      }),
    );
    const rows = job.lossHistory?.rows ?? [];
    this.chartBox.hidden = rows.length === 0;
    this.chart.reset(rows);
  }
}
