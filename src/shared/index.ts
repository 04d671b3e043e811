export * from './config.js';
export * from './errors.js';
export * from './i18n/index.js';
export * from './log.js';
export * from './shutdown-signals.js';
export * from './startup-failure.js';
export * from './job.js';
export * from './presets.js';
