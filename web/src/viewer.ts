/**
 * The stage where the painting hangs: one fixed-size box (so a caption never changes the size of
 * the image), a before/after comparison with the photo (a slider, or drag on the image), and zoom
 * (fit, 1:1, 2×, scrolling to pan). Shows a server image (#preview), the in-browser canvas, or
 * a painted video (#result-video, played with its own controls; no comparison or zoom).
 */
type Zoom = 'fit' | '1' | '2';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

export class Viewer {
  readonly viewer = $<HTMLDivElement>('#viewer');
  readonly frame = $<HTMLDivElement>('#frame');
  readonly image = $<HTMLImageElement>('#preview');
  readonly canvas = $<HTMLCanvasElement>('#browser-output');
  readonly video = $<HTMLVideoElement>('#video');
  readonly resultVideo = $<HTMLVideoElement>('#result-video');
  private readonly before = $<HTMLImageElement>('#before');
  private readonly divider = $<HTMLDivElement>('#divider');
  private readonly empty = $<HTMLElement>('#empty');
  private readonly compare = $<HTMLInputElement>('#compare');
  private readonly compareBox = $<HTMLElement>('#compare-box');
  private readonly zoomBox = $<HTMLElement>('#zoom-box');
  private zoom: Zoom = 'fit';

  constructor() {
    this.compare.addEventListener('input', () => this.layout());
    this.zoomBox.querySelectorAll<HTMLButtonElement>('button').forEach((b) => b.addEventListener('click', () => this.setZoom(b.dataset.zoom as Zoom)));
    for (const img of [this.image, this.before]) img.addEventListener('load', () => this.layout());
    new ResizeObserver(() => this.layout()).observe(this.viewer);
    // Dragging across the image moves the comparison line.
    let dragging = false;
    const moveTo = (e: PointerEvent) => {
      const box = this.shownBox();
      if (!box || this.before.hidden) return;
      const x = e.clientX - this.frame.getBoundingClientRect().left - box.left;
      this.compare.value = String(Math.round(Math.min(1, Math.max(0, x / box.width)) * 100));
      this.layout();
    };
    this.frame.addEventListener('pointerdown', (e) => {
      if (this.compareBox.hidden || this.zoom !== 'fit') return;
      dragging = true;
      this.frame.setPointerCapture(e.pointerId);
      moveTo(e);
    });
    this.frame.addEventListener('pointermove', (e) => dragging && moveTo(e));
    this.frame.addEventListener('pointerup', () => (dragging = false));
  }

  /** An image from the server (a preview while it paints, then the result); `before` is the photo. */
  showImage(url: string, before: string | null = null): void {
    this.hideResultVideo();
    this.canvas.hidden = true;
    this.video.hidden = true;
    if (!this.image.src.endsWith(url)) this.image.src = url;
    this.image.hidden = false;
    this.setBefore(before);
  }

  /** The in-browser result (already drawn on the canvas). */
  showCanvas(before: string | null = null): void {
    this.hideResultVideo();
    this.image.hidden = true;
    this.image.removeAttribute('src');
    this.video.hidden = true;
    this.canvas.hidden = false;
    this.setBefore(before);
  }

  /** A painted video from the server, playing (muted, looped) with its first frame as poster. */
  showVideo(url: string, poster: string | null): void {
    this.image.hidden = true;
    this.image.removeAttribute('src');
    this.canvas.hidden = true;
    this.video.hidden = true;
    const v = this.resultVideo;
    if (poster) v.poster = poster;
    if (!v.src.endsWith(url)) v.src = url;
    v.hidden = false;
    v.play().catch(() => undefined); // autoplay refused: the controls are there
    this.setBefore(null);
  }

  private hideResultVideo(): void {
    const v = this.resultVideo;
    if (v.hidden) return;
    v.pause();
    v.hidden = true;
    v.removeAttribute('src');
    v.load();
  }

  clear(message = 'Your painting appears here.'): void {
    this.hideResultVideo();
    this.image.hidden = true;
    this.image.removeAttribute('src');
    this.canvas.hidden = true;
    this.setBefore(null);
    this.empty.textContent = message;
    this.layout();
  }

  get showing(): boolean {
    return !this.image.hidden || !this.canvas.hidden || !this.resultVideo.hidden;
  }

  /** Zoom applies to images and the canvas only. */
  private get zoomable(): boolean {
    return !this.image.hidden || !this.canvas.hidden;
  }

  private setBefore(url: string | null): void {
    if (url) {
      if (!this.before.src.endsWith(url)) this.before.src = url;
      this.before.hidden = false;
    } else {
      this.before.hidden = true;
      this.before.removeAttribute('src');
      this.compare.value = '0';
    }
    this.compareBox.hidden = !url;
    this.zoomBox.hidden = !this.zoomable;
    this.layout();
  }

  setZoom(zoom: Zoom): void {
    this.zoom = zoom;
    this.viewer.dataset.zoom = zoom;
    this.zoomBox.querySelectorAll<HTMLButtonElement>('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.zoom === zoom)));
    this.layout();
  }

  /** The box the shown image occupies inside the frame (object-fit: contain in fit mode). */
  private shownBox(): { left: number; top: number; width: number; height: number } | null {
    const el: HTMLImageElement | HTMLCanvasElement = this.image.hidden ? this.canvas : this.image;
    const natural = el instanceof HTMLImageElement ? [el.naturalWidth, el.naturalHeight] : [el.width, el.height];
    if (!natural[0] || !natural[1] || el.hidden) return null;
    if (this.zoom !== 'fit') return { left: 0, top: 0, width: el.offsetWidth, height: el.offsetHeight };
    const fw = this.frame.clientWidth;
    const fh = this.frame.clientHeight;
    const scale = Math.min(fw / natural[0], fh / natural[1]);
    const width = natural[0] * scale;
    const height = natural[1] * scale;
    return { left: (fw - width) / 2, top: (fh - height) / 2, width, height };
  }

  /** Places the zoomed sizes, the photo under the comparison line, and the line itself. */
  layout(): void {
    this.empty.hidden = this.showing;
    this.zoomBox.hidden = !this.zoomable;
    const factor = this.zoom === 'fit' ? 0 : Number(this.zoom);
    for (const el of [this.image, this.canvas] as (HTMLImageElement | HTMLCanvasElement)[]) {
      const w = el instanceof HTMLImageElement ? el.naturalWidth : el.width;
      el.style.width = factor && w ? `${w * factor}px` : '';
      el.style.height = factor ? 'auto' : '';
    }
    const box = this.shownBox();
    if (this.before.hidden || !box) {
      this.divider.hidden = true;
      return;
    }
    // The photo exactly over the painting's box, cut at the line: left of it the photo, right the painting.
    Object.assign(this.before.style, { position: 'absolute', left: `${box.left}px`, top: `${box.top}px`, width: `${box.width}px`, height: `${box.height}px`, objectFit: 'fill' });
    const share = Number(this.compare.value) / 100;
    this.before.style.clipPath = `inset(0 ${(1 - share) * 100}% 0 0)`;
    this.divider.hidden = share <= 0 || share >= 1;
    Object.assign(this.divider.style, { left: `${box.left + share * box.width - 1}px`, top: `${box.top}px`, height: `${box.height}px`, bottom: 'auto' });
  }
}
