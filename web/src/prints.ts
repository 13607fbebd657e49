/**
 * Print sizes in the size menu (2,048 and 4,096 px where the server allows them): such a job
 * runs in tiles within the server's memory budget, and before it starts the page says how long
 * it will take here (GET /api/estimate: the server's pace on its finished paintings), or that it
 * cannot be told yet, or that it does not fit.
 */
import { api } from './api.js';

export const PRINT_SIZES = [2048, 4096];

export interface PrintRequest {
  method: 'stylize' | 'fast';
  size: number;
  width: number;
  height: number;
  quality?: string;
  iterations?: string;
  transferMethod?: string;
}

interface Estimate {
  seconds: number | null;
  fits: boolean;
  message: string;
}

export class PrintSizes {
  private group: HTMLOptGroupElement | null = null;
  private asked = 0;

  constructor(private readonly select: HTMLSelectElement, private readonly note: HTMLElement) {}

  /** Adds the print sizes the server allows (up to its largest size) as their own group. */
  offer(maxSize: number): void {
    const sizes = PRINT_SIZES.filter((s) => s <= maxSize);
    if (!sizes.length) return;
    this.group = document.createElement('optgroup');
    this.group.label = 'Prints (painted in tiles)';
    this.group.append(...sizes.map((s) => new Option(`${s.toLocaleString('en')} px · ${s >= 4096 ? 'large print' : 'print'}`, String(s))));
    this.select.append(this.group);
  }

  /** Prints are for the server's jobs: hidden (and a chosen one dropped) where the page paints itself or a video. */
  enable(on: boolean): void {
    if (!this.group) return;
    this.group.hidden = !on;
    this.group.disabled = !on;
    if (!on && this.chosen()) this.select.value = String([...this.select.options].filter((o) => !PRINT_SIZES.includes(Number(o.value))).pop()?.value ?? '');
    if (!on) this.note.hidden = true;
  }

  chosen(): boolean {
    return PRINT_SIZES.includes(Number(this.select.value));
  }

  /** Says what the chosen print takes (nothing for screen sizes). */
  async update(request: PrintRequest | null): Promise<void> {
    const ask = ++this.asked;
    if (!request || !this.chosen()) {
      this.note.hidden = true;
      return;
    }
    this.note.hidden = false;
    this.note.classList.remove('error');
    this.note.textContent = `${request.size} px: estimating the time on this server…`;
    const q = new URLSearchParams({ method: request.method, size: String(request.size), width: String(request.width), height: String(request.height) });
    if (request.method === 'stylize') {
      if (request.quality) q.set('quality', request.quality);
      if (request.iterations) q.set('iterations', request.iterations);
      if (request.transferMethod) q.set('transferMethod', request.transferMethod);
    }
    try {
      const e = await api<Estimate>(`api/estimate?${q}`);
      if (ask !== this.asked) return; // a newer choice was made meanwhile
      // Where a technique cannot tile, say which one can.
      const instead = !e.fits && request.transferMethod && request.transferMethod !== 'gatys' ? ' Gatys paints prints in tiles.' : '';
      this.note.textContent = `A print: ${e.message}.${instead}`;
      this.note.classList.toggle('error', !e.fits);
      document.body.dataset.printEstimate = String(e.seconds ?? (e.fits ? 'unknown' : 'does-not-fit'));
    } catch (err) {
      if (ask === this.asked) this.note.textContent = `cannot estimate the time: ${(err as Error).message}`;
    }
  }
}
