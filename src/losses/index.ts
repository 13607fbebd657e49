/** The losses of Gatys et al., as defined by the project's loss contract (shared/reference). */
export * from './gram';
export * from './content';
export * from './style';
export * from './total-variation';
export * from './gatys-objective';
export * from './objective';
export * from './remd';
export * from './moments';
export * from './colour-remd';
export * from './self-similarity';
export * from './w2';
export * from './swd';
export * from './layer-losses';
export * from './sampling';
