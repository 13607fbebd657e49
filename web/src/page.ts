/**
 * What every panel of the page shares: the choices made so far (state), the page's elements, the
 * stage's widgets, the status line and where errors are shown.
 */
import type { BrowserStyleNet } from './fast-net.js';
import type { Job, Sample, ServerOptions, StyleInfo } from './api.js';
import { LossChart } from './chart.js';
import { DetailsPanel } from './details.js';
import { PrintSizes } from './prints.js';
import { Viewer } from './viewer.js';

export type Role = 'content' | 'style';
export type Method = 'stylize' | 'fast' | 'browser';

export const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;
export const rel = (url: string) => url.replace(/^\//, '');
export const BASE_TITLE = document.title;
export const CURRENT_JOB_KEY = 'nst.currentJob';

export const state = {
  content: { file: null as File | null, sample: null as string | null },
  /** The chosen photo is a video: quick styles on the server only. */
  videoMode: false,
  /** Paintings for the optimisation: an uploaded file and/or samples; one job each. */
  style: { file: null as File | null, samples: [] as string[] },
  /** Quick styles chosen for the server (one job each); the select shows the first. */
  fastStyles: [] as string[],
  options: null as ServerOptions | null,
  samples: [] as Sample[],
  styles: [] as StyleInfo[],
  /** The arbitrary-style transformer's graph model (fitted styles in this browser), if served. */
  arbitraryModel: null as string | null,
  job: null as Job | null,
  stopWatching: null as (() => void) | null,
  net: null as BrowserStyleNet | null,
  webcam: null as MediaStream | null,
  /** Strength per mode: the optimisation's 0–200 scale and the quick styles' 0–100 %. */
  strength: { stylize: 100, fast: 100 },
};

export const els = {
  status: $<HTMLParagraphElement>('#status'),
  progress: $<HTMLProgressElement>('#progress'),
  caption: $<HTMLElement>('#caption'),
  start: $<HTMLButtonElement>('#start'),
  cancel: $<HTMLButtonElement>('#cancel'),
  download: $<HTMLAnchorElement>('#download'),
  detailsOpen: $<HTMLButtonElement>('#details-open'),
  size: $<HTMLSelectElement>('#size'),
  preset: $<HTMLSelectElement>('#preset'),
  quality: $<HTMLSelectElement>('#quality'),
  transferMethod: $<HTMLSelectElement>('#transfer-method'),
  iterations: $<HTMLInputElement>('#iterations'),
  strength: $<HTMLInputElement>('#strength'),
  strengthValue: $<HTMLOutputElement>('#strength-value'),
  preserve: $<HTMLSelectElement>('#preserve-colors'),
  fastStyle: $<HTMLSelectElement>('#fast-style'),
  backend: $<HTMLSelectElement>('#backend'),
  advanced: $<HTMLDetailsElement>('#advanced'),
  chartBox: $<HTMLDetailsElement>('#chart-box'),
  formError: $<HTMLElement>('#form-error'),
  webcamStart: $<HTMLButtonElement>('#webcam-start'),
  webcamStop: $<HTMLButtonElement>('#webcam-stop'),
  fitFile: $<HTMLInputElement>('#fit-file'),
  fitStatus: $<HTMLElement>('#fit-status'),
};
export const chart = new LossChart($<HTMLCanvasElement>('#chart'));
export const viewer = new Viewer();
export const details = new DetailsPanel();
export const prints = new PrintSizes(els.size, $<HTMLElement>('#print-note'));

export function method(): Method {
  return ($<HTMLInputElement>('input[name="method"]:checked')?.value ?? 'stylize') as Method;
}

/** Counters on <body data-…> that show what the page has seen (handy when testing it). */
export function bump(name: string): void {
  document.body.dataset[name] = String(Number(document.body.dataset[name] ?? 0) + 1);
}

export function setStatus(text: string, error = false): void {
  els.status.textContent = text;
  els.status.classList.toggle('error', error);
}

/** Errors are shown where they belong: beside the photo, the painting, or the Paint button. */
export function showError(message: string, where?: Role): void {
  const target = where ?? (/\b(content|photo)\b/i.test(message) ? 'content' : /\b(style|painting)\b/i.test(message) && method() === 'stylize' ? 'style' : null);
  const box = target ? $<HTMLElement>(`#slot-${target} .slot-error`) : els.formError;
  box.textContent = message;
  box.hidden = false;
}

export function clearErrors(): void {
  document.querySelectorAll<HTMLElement>('.slot-error, #form-error').forEach((e) => {
    e.hidden = true;
    e.textContent = '';
  });
  if (els.status.classList.contains('error')) setStatus(state.job ? '' : 'Choose a photo and a painting.');
}
