/**
 * Contact sheets: a title strip, then a grid of equal cells, each an image with a label strip
 * under it. Labels are an SVG overlay that sharp renders with librsvg; when librsvg has no usable
 * font (probed once by rendering test strings) they are drawn with a built-in 5×7 block font.
 *
 * Geometry (all in pixels, `gap` around and between cells):
 *   width  = columns × cellWidth + (columns + 1) × gap
 *   height = titleHeight + gap + rows × (cellHeight + labelHeight + gap)
 */
import sharp from 'sharp';
import { encodeImage, RgbImage } from '../../image';
import { BLOCK_GLYPH_HEIGHT, blockText, blockTextSvg, blockTextWidth } from './block-font';

export type LabelFont = 'svg' | 'block';

export interface SheetCell {
  image: RgbImage;
  /** Label lines (the first is the name, bold); at most `labelLines` are drawn. */
  lines: string[];
}

export interface SheetLayoutOptions {
  /** Cells per row (default: all in one row up to 6, else balanced rows of at most 6). */
  columns?: number;
  /** Lines of each label strip. Default 2. */
  labelLines?: number;
}

export interface SheetLayout {
  count: number;
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  gap: number;
  fontSize: number;
  lineHeight: number;
  labelLines: number;
  labelHeight: number;
  titleFontSize: number;
  titleHeight: number;
  width: number;
  height: number;
}

export const SHEET_GAP = 8;
const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";
/** Average advance of DejaVu Sans / Liberation Sans glyphs (digits are the widest), in em. */
const SVG_CHAR_EM = 0.62;
const LABEL_BACKGROUND = '#f0f0f0';
const TEXT_COLOUR = '#202020';

/** Default columns: one row up to 6 cells, else the fewest rows of at most 6, balanced. */
export function defaultColumns(count: number, max = 6): number {
  if (count <= max) return Math.max(1, count);
  return Math.ceil(count / Math.ceil(count / max));
}

export function sheetLayout(count: number, cellWidth: number, cellHeight: number, options: SheetLayoutOptions = {}): SheetLayout {
  const columns = Math.max(1, Math.min(options.columns ?? defaultColumns(count), Math.max(count, 1)));
  const rows = Math.max(1, Math.ceil(count / columns));
  const gap = SHEET_GAP;
  const labelLines = options.labelLines ?? 2;
  const fontSize = clamp(Math.round(cellWidth / 12), 9, 13);
  const lineHeight = Math.round(fontSize * 1.4);
  const labelHeight = labelLines * lineHeight + 4;
  const width = columns * cellWidth + (columns + 1) * gap;
  const titleFontSize = clamp(Math.round(width / 45), 9, 18);
  const titleHeight = Math.round(titleFontSize * 1.4) + gap;
  const height = titleHeight + gap + rows * (cellHeight + labelHeight + gap);
  return { count, columns, rows, cellWidth, cellHeight, gap, fontSize, lineHeight, labelLines, labelHeight, titleFontSize, titleHeight, width, height };
}

/** Top-left corner of cell `index`'s image (its label strip lies right under it). */
export function cellOrigin(layout: SheetLayout, index: number): { x: number; y: number } {
  const row = Math.floor(index / layout.columns);
  const col = index % layout.columns;
  return {
    x: layout.gap + col * (layout.cellWidth + layout.gap),
    y: layout.titleHeight + layout.gap + row * (layout.cellHeight + layout.labelHeight + layout.gap),
  };
}

export interface RenderSheetOptions extends SheetLayoutOptions {
  /** 'auto' (default, or $NST_LABEL_FONT): SVG text when a system font renders, else the block font. */
  font?: LabelFont | 'auto';
}

/**
 * Renders the sheet as PNG bytes. Cell images of another size than cellWidth × cellHeight (the
 * style painting) are fitted inside their cell on white.
 */
export async function renderContactSheet(
  title: string,
  cells: SheetCell[],
  cellWidth: number,
  cellHeight: number,
  options: RenderSheetOptions = {},
): Promise<{ png: Buffer; layout: SheetLayout; font: LabelFont }> {
  const layout = sheetLayout(cells.length, cellWidth, cellHeight, options);
  const font = await chooseFont(options.font);
  const images = await Promise.all(
    cells.map(async (cell, i) => {
      let input = await encodeImage(cell.image, 'png');
      if (cell.image.width !== cellWidth || cell.image.height !== cellHeight) {
        input = await sharp(input).resize(cellWidth, cellHeight, { fit: 'contain', background: '#ffffff' }).png().toBuffer();
      }
      const { x, y } = cellOrigin(layout, i);
      return { input, left: x, top: y };
    }),
  );
  const overlay = Buffer.from(labelsSvg(title, cells, layout, font));
  const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } })
    .composite([...images, { input: overlay, left: 0, top: 0 }])
    .png()
    .toBuffer();
  return { png, layout, font };
}

/** The title and label strips as one transparent SVG the size of the sheet. */
function labelsSvg(title: string, cells: SheetCell[], layout: SheetLayout, font: LabelFont): string {
  const parts: string[] = [];
  const text = (s: string, cx: number, top: number, lineHeight: number, fontSize: number, maxWidth: number, bold: boolean) => {
    if (font === 'svg') {
      const fitted = fitText(s, maxWidth, (t) => [...t].length * SVG_CHAR_EM * fontSize);
      const baseline = top + Math.round(lineHeight * 0.5 + fontSize * 0.36);
      parts.push(
        `<text x="${cx}" y="${baseline}" text-anchor="middle" font-family="${FONT_FAMILY}" font-size="${fontSize}"${bold ? ' font-weight="bold"' : ''} fill="${TEXT_COLOUR}">${escapeXml(fitted)}</text>`,
      );
    } else {
      const scale = Math.min(blockScale(lineHeight), Math.max(1, Math.round(fontSize / 7)));
      const fitted = fitText(blockText(s), maxWidth, (t) => blockTextWidth(t, scale), '...');
      const w = blockTextWidth(fitted, scale);
      parts.push(blockTextSvg(fitted, Math.round(cx - w / 2), top + Math.floor((lineHeight - BLOCK_GLYPH_HEIGHT * scale) / 2), scale, TEXT_COLOUR));
    }
  };
  // The title shrinks (down to 9 px) before it is cut.
  const titleWidth = layout.width - 2 * layout.gap;
  const titleSize = Math.max(9, Math.min(layout.titleFontSize, Math.floor(titleWidth / (SVG_CHAR_EM * [...title].length))));
  text(title, layout.width / 2, Math.round(layout.gap / 2), layout.titleHeight - layout.gap, titleSize, titleWidth, true);
  cells.forEach((cell, i) => {
    const { x, y } = cellOrigin(layout, i);
    const top = y + layout.cellHeight;
    parts.push(`<rect x="${x}" y="${top}" width="${layout.cellWidth}" height="${layout.labelHeight}" fill="${LABEL_BACKGROUND}"/>`);
    cell.lines.slice(0, layout.labelLines).forEach((line, l) => {
      text(line, x + layout.cellWidth / 2, top + 2 + l * layout.lineHeight, layout.lineHeight, layout.fontSize, layout.cellWidth - 4, l === 0);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}">${parts.join('')}</svg>`;
}

/** Pixels per font pixel of the block font for a line height. */
function blockScale(lineHeight: number): number {
  return Math.max(1, Math.floor(lineHeight / (BLOCK_GLYPH_HEIGHT + 2)));
}

/** Cuts `s` (with an ellipsis) until measure(s) ≤ maxWidth. */
function fitText(s: string, maxWidth: number, measure: (t: string) => number, ellipsis = '…'): string {
  if (measure(s) <= maxWidth) return s;
  const chars = [...s];
  for (let n = chars.length - 1; n > 0; n--) {
    const t = chars.slice(0, n).join('').trimEnd() + ellipsis;
    if (measure(t) <= maxWidth) return t;
  }
  return '';
}

let probe: Promise<boolean> | null = null;

async function chooseFont(requested: LabelFont | 'auto' | undefined): Promise<LabelFont> {
  const choice = requested ?? (process.env.NST_LABEL_FONT as LabelFont | 'auto' | undefined) ?? 'auto';
  if (choice === 'svg' || choice === 'block') return choice;
  probe ??= systemFontRenders();
  return (await probe) ? 'svg' : 'block';
}

/**
 * Whether librsvg draws real glyphs: text must leave ink, and 'MMMMMM' must come out clearly
 * wider than 'iiiiii' (missing-glyph boxes all have one width).
 */
export async function systemFontRenders(): Promise<boolean> {
  const inkWidth = async (s: string): Promise<number> => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40"><text x="4" y="30" font-family="${FONT_FAMILY}" font-size="24" fill="#000">${s}</text></svg>`;
    const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    let min = Infinity;
    let max = -1;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        if (data[(y * info.width + x) * info.channels + 3] > 64) {
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
      }
    }
    return max < 0 ? 0 : max - min + 1;
  };
  try {
    const [narrow, wide] = await Promise.all([inkWidth('iiiiii'), inkWidth('MMMMMM')]);
    return narrow > 0 && wide > 1.5 * narrow;
  } catch {
    return false;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
