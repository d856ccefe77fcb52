// The shared figure vectors (tests/vectors/figures.json) through the aide's app's rules
// (pwa/js/figures.js). Run in Chromium by tests/e2e/test_figures_js.py; returns the
// failures, one string each, and how many vectors ran.
import { deriveGoals, figures, sessionEntries } from '/js/figures.js';

const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) < 1e-6);

export async function run() {
  const doc = await (await fetch('/vectors/figures.json')).json();
  const failures = [];
  for (const v of doc.vectors) {
    for (const events of [v.events, [...v.events].reverse()]) {
      const results = deriveGoals(events, { closedAt: v.closed_at ?? null });
      const got = figures(results.get(doc.goal_id), v.measurement, { continuous: v.continuous ?? false });
      for (const [name, expected] of Object.entries(v.expect)) {
        const value = got[name] ?? (typeof expected === 'boolean' ? false : 0);
        if (!close(value, expected)) failures.push(`${v.name}: ${name} = ${value}, expected ${expected}`);
      }
      if ('session_entries' in v && sessionEntries(results) !== v.session_entries) {
        failures.push(`${v.name}: session entries = ${sessionEntries(results)}, expected ${v.session_entries}`);
      }
    }
  }
  return { ran: doc.vectors.length, failures };
}
