/**
 * The optimisation's transfer methods as a painter chooses them: one line of words each, and
 * how the strength slider (0–200, 100 = the method's usual) reads for each: Gatys by its style
 * weight (×0.1 … ×10, log; OT alike), STROTSS and NNST by alpha, the share of the photo kept (100 → the
 * method's default; 0 keeps all of the photo, 200 none of it).
 */
export interface TransferMethodInfo {
  name: string;
  description: string;
  /** The method's default alpha; null: balanced by weights (Gatys). */
  alpha: number | null;
}

export const TRANSFER_WORDS: Record<string, { label: string; line: string }> = {
  gatys: { label: 'Gatys · the classic', line: "Gatys, the classic: paints with the statistics of the painting's textures." },
  strotss: { label: 'STROTSS · brush marks, your layout', line: "STROTSS: the painting's brush marks and palette, placed by optimal transport; keeps the photo's layout." },
  nnst: { label: 'NNST · closest parts of the painting', line: 'NNST: each part of the photo repainted with the closest part of the painting, then its colours.' },
  ot: { label: 'OT · the painting\'s whole palette of marks', line: "Optimal transport: matches the whole spread of the painting's textures, not just their averages; keeps the photo's layout." },
};

/** Alpha for a slider position: 100 → `usual`, 0 → 1 (all photo), 200 → 0 (all painting). */
export function alphaAt(slider: number, usual: number): number {
  const a = slider <= 100 ? 1 - ((1 - usual) * slider) / 100 : usual * (1 - (slider - 100) / 100);
  return Number(Math.min(1, Math.max(0, a)).toFixed(3));
}

/** The slider position that gives `alpha` (the inverse of alphaAt). */
export function sliderFor(alpha: number, usual: number): number {
  if (alpha >= usual) return usual >= 1 ? 100 : Math.round((100 * (1 - alpha)) / (1 - usual));
  return usual <= 0 ? 100 : Math.round(100 + 100 * (1 - alpha / usual));
}
