// The `@revcopy/enterprise/security` entry: the security module (the `Security` object an instance
// builds, and its parts usable on their own: rate limiting, request screening, client keys, login
// analytics, client risk and bans, the score), and the composition that builds the default
// instance's security.
import '../enterprise.js';
import '../compose/security.js';

export * from '../security/index.js';
