/** `--preserve-colors`: keep the photo's colours and take only the stylised luminance, or not. */
export const PRESERVE_COLORS = ['none', 'luminance'] as const;
export type PreserveColors = (typeof PRESERVE_COLORS)[number];
