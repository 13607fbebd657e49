/** Optimisation-based style transfer (Gatys et al. 2015/2016). */
export * from './options';
export * from './run';
export * from './stylize';
export * from './presets';
export * from './report';
export * from './quality';
