/** Pretrained networks and their weight files. */
export * from './vgg19';
export * from './preprocess';
export * from './model-dir';
export * from './tfjs-layers';
