export * from './codes.js';
export * from './types.js';
export * from './control.js';
export * from './tick-scanner.js';
