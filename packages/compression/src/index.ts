export * from './kv-cache';
export * from './storage/tensor-storage';
export * from './storage/float32-storage';
export * from './storage/concat-storage';
export { formatShape } from './messages';
export * from './logger';
export * from './strategy';
