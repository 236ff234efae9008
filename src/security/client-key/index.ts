export { type CidrMatcher, type CidrRange, cidrMatcher, parseCidr } from './cidr.js';
export {
  type ClientKeyOptions,
  type ClientKeyRequest,
  type ClientKeyResolver,
  clientKey,
  createClientKey,
  UNKNOWN_CLIENT,
} from './client-key.js';
export { parseHop } from './forwarded.js';
export {
  addressKey,
  formatIp,
  type IpAddress,
  isIPv4Mapped,
  normalizeIp,
  parseIp,
  unmapIPv4,
} from './ip.js';
