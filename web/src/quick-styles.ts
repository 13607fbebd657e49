/** The quick styles the server offers, as tiles in the style slot (several may be chosen for the server, one for the browser). */
import { getStyles, Sample, StyleInfo } from './api.js';
import { $, clearErrors, els, method, rel, state } from './page.js';
import { tile } from './sample-tile.js';

/** A quick style's name in words (a fitted one's painting). */
export function styleTitle(s: StyleInfo): string {
  return s.title ?? s.name.replace(/_/g, ' ');
}

/** The painting a quick style was trained on, where the server has it among its samples. */
export function styleThumb(name: string): string | null {
  if (!name) return null;
  const fitted = state.styles.find((s) => s.name === name)?.thumbnail;
  if (fitted) return fitted;
  const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const paintings = state.samples.filter((s) => s.kind === 'style');
  const norm = (s: Sample) => s.name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const hit = paintings.find((s) => norm(s) === key) ?? paintings.find((s) => key.length >= 4 && norm(s).includes(key));
  return hit ? `${rel(hit.url)}?size=160` : null;
}

export function renderFastStyles(): void {
  const box = $<HTMLElement>('#fast-styles');
  box.dataset.empty = 'no quick styles on this server';
  if (!state.fastStyles.length && els.fastStyle.value) state.fastStyles = [els.fastStyle.value];
  box.replaceChildren(
    ...state.styles.map((s) =>
      tile(s.name, styleTitle(s), styleThumb(s.name), state.fastStyles.includes(s.name), () => {
        clearErrors();
        const list = state.fastStyles;
        if (method() === 'browser') state.fastStyles = [s.name];
        else state.fastStyles = list.includes(s.name) ? (list.length > 1 ? list.filter((x) => x !== s.name) : list) : [...list, s.name];
        els.fastStyle.value = state.fastStyles[0];
        renderFastStyles();
      }),
    ),
  );
}

/** Reads the styles again (a painting was fitted) and picks `name`. */
export async function reloadStyles(name: string): Promise<void> {
  const catalog = await getStyles();
  state.styles = catalog.styles;
  state.arbitraryModel = catalog.arbitraryModel;
  els.fastStyle.replaceChildren(...catalog.styles.map((s) => new Option(styleTitle(s), s.name)));
  els.fastStyle.value = name;
  state.fastStyles = [name];
  renderFastStyles();
}
