// The page header: overall status, uptime and the time of the last snapshot.
import { $, setText, updateBadge } from '../dom.js';
import { fmtTime, fmtUptime } from '../format.js';

/** Renders the header figures of a snapshot. */
export function renderHeader(snapshot) {
  updateBadge($('overall-status'), snapshot.health?.status);
  setText('uptime', fmtUptime(snapshot.uptimeSeconds));
  setText('updated', fmtTime(snapshot.time));
  document.body.dataset.seq = String(snapshot.seq ?? '');
}
