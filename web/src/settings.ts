/**
 * The settings panel: how to paint (optimisation, quick style on the server, in this browser), the
 * strength, the transfer method, quality, size and print sizes, the layer preset, the colours.
 */
import type { ServerOptions, StyleInfo } from './api.js';
import { $, els, method, prints, state } from './page.js';
import { renderFastStyles, styleTitle } from './quick-styles.js';
import { PRINT_SIZES } from './prints.js';
import { alphaAt, TRANSFER_WORDS, TransferMethodInfo } from './transfer-methods.js';
import { PRESET_WORDS } from './words.js';

/** The optimisation's transfer method chosen (null on a server that offers no choice). */
export function transferMethod(): TransferMethodInfo | null {
  return state.options?.transferMethods?.find((t) => t.name === els.transferMethod.value) ?? null;
}

/**
 * Optimisation: slider 0–200 → style weight 10…1000 (log, 100 = default), or for methods balanced
 * by alpha the share of the photo kept (see transfer-methods.ts); quick styles: 0–100 %.
 */
export function strengthValue(): { styleWeight: number; alpha: number | null; blend: number } {
  const s = Number(els.strength.value);
  const usual = transferMethod()?.alpha;
  const alpha = usual === null || usual === undefined ? null : alphaAt(s, usual);
  return { styleWeight: Number((100 * 10 ** ((s - 100) / 100)).toPrecision(3)), alpha, blend: Math.min(s, 100) / 100 };
}

function updateStrengthLabel(): void {
  const s = Number(els.strength.value);
  const { alpha } = strengthValue();
  if (method() === 'stylize' && alpha !== null) {
    const word = s === 100 ? 'balanced' : s < 100 ? 'lighter' : 'stronger';
    els.strengthValue.textContent = `${word} (photo kept ${Math.round(alpha * 100)} %)`;
    $<HTMLElement>('#weight-note').textContent = `Strength sets alpha to ${alpha} (the usual is ${transferMethod()?.alpha}); 1 keeps the most of the photo.`;
    state.strength.stylize = s;
  } else if (method() === 'stylize') {
    const factor = 10 ** ((s - 100) / 100);
    const word = s === 100 ? 'balanced' : s < 100 ? 'lighter' : 'stronger';
    els.strengthValue.textContent = `${word} (${factor < 1 ? factor.toFixed(2) : factor.toPrecision(2)}×)`;
    $<HTMLElement>('#weight-note').textContent = `Strength sets the style weight to ${strengthValue().styleWeight} (the usual is 100).`;
    state.strength.stylize = s;
  } else {
    els.strengthValue.textContent = s >= 100 ? '100 % (full style)' : `${s} % style, ${100 - s} % photo`;
    state.strength.fast = s;
  }
}

/** The chosen transfer method's line of words; the layer presets only where Gatys paints. */
export function showTransferMethod(): void {
  const t = transferMethod();
  const note = document.querySelector<HTMLElement>('#transfer-note');
  if (note) note.textContent = t ? (TRANSFER_WORDS[t.name]?.line ?? t.description) : '';
  const gatys = !t || t.name === 'gatys';
  document.querySelectorAll<HTMLElement>('.gatys-only').forEach((e) => (e.hidden = !gatys));
  $<HTMLElement>('#preset-note').hidden = !gatys;
  updateStrengthLabel();
}

/** The chosen print's time, said again whenever what it depends on changes. */
function updatePrintNote(): void {
  const m = method();
  prints.enable(m !== 'browser' && !state.videoMode);
  if (m === 'browser' || state.videoMode) return;
  const photo = $<HTMLImageElement>('#slot-content .drop img.chosen');
  const known = !photo.hidden && photo.naturalWidth > 0;
  prints
    .update({
      method: m,
      size: Number(els.size.value),
      width: known ? photo.naturalWidth : 4,
      height: known ? photo.naturalHeight : 3,
      quality: els.quality.value,
      iterations: els.iterations.value || undefined,
      transferMethod: transferMethod()?.name,
    })
    .catch(() => undefined);
}

export function updateMethod(): void {
  const m = method();
  document.querySelectorAll<HTMLElement>('.not-video').forEach((e) => (e.hidden = state.videoMode));
  document.querySelectorAll<HTMLElement>('.for-stylize').forEach((e) => (e.hidden = m !== 'stylize'));
  if (m !== 'stylize' && els.preserve.value === 'histogram') els.preserve.value = 'none';
  document.querySelectorAll<HTMLElement>('.for-browser').forEach((e) => (e.hidden = m !== 'browser'));
  $<HTMLElement>('#slot-style .for-style').hidden = m !== 'stylize';
  $<HTMLElement>('#slot-style .for-fast').hidden = m === 'stylize';
  $<HTMLElement>('#slot-style h2').textContent = m === 'stylize' ? 'The painting' : 'The style';
  // The slider's scale is the mode's own: 0–200 (×0.1…×10) or 0–100 %.
  els.strength.max = m === 'stylize' ? '200' : '100';
  els.strength.value = String(m === 'stylize' ? state.strength.stylize : Math.min(state.strength.fast, 100));
  if (m === 'browser' && state.fastStyles.length > 1) state.fastStyles = state.fastStyles.slice(0, 1);
  renderFastStyles();
  updateStrengthLabel();
  updatePrintNote();
}

function sizeLabel(px: number): string {
  const word = px <= 128 ? 'tiny' : px <= 256 ? 'small' : px <= 512 ? 'medium' : px <= 1024 ? 'large' : 'very large';
  return `${px} px · ${word}`;
}

/** The panel's controls: each change updates what depends on it (labels, notes, the print's time). */
export function setUpSettings(): void {
  document.querySelectorAll('input[name="method"]').forEach((r) => r.addEventListener('change', updateMethod));
  els.strength.addEventListener('input', updateStrengthLabel);
  // After the other listeners (a quality sets its own size first).
  for (const el of [els.size, els.quality, els.transferMethod, els.iterations]) el.addEventListener('change', () => setTimeout(updatePrintNote, 0));
  $<HTMLImageElement>('#slot-content .drop img.chosen').addEventListener('load', updatePrintNote);
  els.transferMethod.addEventListener('change', () => {
    // Each method's strength starts at its usual balance.
    state.strength.stylize = 100;
    els.strength.value = '100';
    showTransferMethod();
  });
  els.fastStyle.addEventListener('change', () => {
    state.fastStyles = [els.fastStyle.value];
    renderFastStyles();
  });
  els.quality.addEventListener('change', () => {
    const q = state.options?.qualities.find((x) => x.name === els.quality.value);
    if (q) {
      els.size.value = String(q.size);
      els.iterations.placeholder = `${q.iterations} (from quality)`;
      els.iterations.value = '';
    }
  });
  els.preset.addEventListener('change', () => {
    const p = state.options?.presets.find((x) => x.name === els.preset.value);
    els.preset.title = p ? `${p.description} (${p.source})` : '';
    $<HTMLElement>('#preset-note').textContent = p ? `Copies ${PRESET_WORDS[p.name] ?? p.name} from the painting.` : '';
  });
}

/** The server's choices into the panel: sizes, qualities, transfer methods, presets, quick styles. */
export function offerServerOptions(options: ServerOptions, styles: StyleInfo[]): void {
  const sizes = [64, 128, 256, 384, 512, 768, 1024, 1536].filter((s) => s >= options.limits.minSize && s <= options.limits.maxSize && !PRINT_SIZES.includes(s));
  els.size.replaceChildren(...sizes.map((s) => new Option(sizeLabel(s), String(s))));
  prints.offer(options.limits.maxSize);
  els.quality.replaceChildren(...options.qualities.map((q) => new Option(`${q.name[0].toUpperCase()}${q.name.slice(1)} · ${q.size} px`, q.name)));
  els.quality.value = options.defaultQuality;
  els.quality.dispatchEvent(new Event('change'));
  // The transfer methods, with the server's default chosen; hidden where the server offers none.
  const methods = options.transferMethods ?? [];
  els.transferMethod.replaceChildren(...methods.map((t) => new Option(TRANSFER_WORDS[t.name]?.label ?? t.name, t.name)));
  els.transferMethod.value = options.defaultTransferMethod ?? methods[0]?.name ?? '';
  if (methods.length === 0) {
    els.transferMethod.closest('label')!.remove();
    $<HTMLElement>('#transfer-note').remove();
  }
  els.preset.replaceChildren(...options.presets.map((p) => new Option(PRESET_WORDS[p.name] ?? p.name, p.name)));
  els.preset.value = options.defaultPreset;
  els.preset.dispatchEvent(new Event('change'));
  showTransferMethod();
  els.iterations.max = String(options.limits.maxIterations);
  els.fastStyle.replaceChildren(...styles.map((s) => new Option(styleTitle(s), s.name)));
  state.fastStyles = styles.length ? [styles[0].name] : [];
}
