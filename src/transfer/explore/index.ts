/** `nst explore`: the experiments of Gatys et al. as contact sheets. */
export * from './experiments';
export * from './options';
export * from './run';
export * from './explore';
export * from './contact-sheet';
export { blockText, blockTextSvg, blockTextWidth } from './block-font';
