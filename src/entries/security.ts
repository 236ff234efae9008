// The `@revcopy/enterprise/security` entry: the security module's parts (rate limiting, request
// screening, client keys, login analytics, client risk and bans, the score), usable on their own.
export * from '../security/index.js';
