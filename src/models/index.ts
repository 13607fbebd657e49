/** Pretrained networks and their weight files. */
export * from './vgg19';
export * from './preprocess';
export * from './model-dir';
export * from './tfjs-layers';
export * from './transformer-net';
export * from './arbitrary-transformer';
export * from './deeplearn-checkpoint';
export * from './style-model-format';
export * from './model-registry';
export * from './fetch';
export * from './import-keras-h5';
export * from './import-torch-pth';
