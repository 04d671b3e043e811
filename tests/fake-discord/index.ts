export * from './fake-discord.js';
export * from './payloads.js';
