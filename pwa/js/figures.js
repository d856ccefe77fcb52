// One definition of every figure a person reads: the rules of server/collect/derive.py,
// for the aide's screen offline. Both are run against the same vectors
// (tests/vectors/figures.json): change a rule in one, and a test fails until the other
// follows.
//
// An event: {op_id, kind, at (ISO) or ms, goal_id, outcome, prompt, delta, timer_id,
// value, step_index, voids_op_id, state}. A local entry that the server rejected, or
// turned into a proposed correction (`status`), does not count here either.

const COUNTED = new Set(['applied']);
const OUTCOMES = ['correct', 'incorrect', 'no_response'];

// A local entry's timer events carry the moment the button was pressed (started_ms,
// stopped_ms: the monotonic clock of the page); everything else its `at`.
const time = (e) => e.ms ?? e.started_ms ?? e.stopped_ms ?? Date.parse(e.at);

function byTimeThenId(a, b) {
  return time(a) - time(b) || (a.op_id < b.op_id ? -1 : a.op_id > b.op_id ? 1 : 0);
}

// The events that count, in a fixed order: undone, corrected, proposed and declined ones
// dropped, and the undo and correction events themselves.
export function liveEvents(events) {
  const counted = events.filter((e) => COUNTED.has(e.state ?? 'applied') && !e.status);
  const voided = new Set();
  for (const e of counted) if (e.voids_op_id) voided.add(e.voids_op_id);
  return counted.filter((e) => !voided.has(e.op_id) && e.kind !== 'undo' && e.kind !== 'correction').sort(byTimeThenId);
}

function emptyResult() {
  return {
    events: 0,
    trials: { correct: 0, incorrect: 0, no_response: 0 },
    independent: 0,
    tally: 0,
    runs: [],
    runningSince: null,
    ratings: [],
    steps: new Map(),
  };
}

// Sorted, disjoint runs; touching or overlapping ones merged (counted once).
function union(runs) {
  const merged = [];
  for (const run of [...runs].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    if (run[1] <= run[0]) continue;
    const last = merged[merged.length - 1];
    if (last && run[0] <= last[1]) last[1] = Math.max(last[1], run[1]);
    else merged.push([run[0], run[1]]);
  }
  return merged;
}

// Per goal id ('none' for events of no goal): what the events add up to.
export function deriveGoals(events, { closedAt = null } = {}) {
  const live = liveEvents(events);
  const closed = closedAt == null ? null : typeof closedAt === 'number' ? closedAt : Date.parse(closedAt);
  const results = new Map();
  const result = (goalId) => {
    const key = goalId ?? 'none';
    if (!results.has(key)) results.set(key, emptyResult());
    return results.get(key);
  };
  // A timer's goal is the one its (earliest) start named; a stop names only the timer.
  const timerGoal = new Map();
  for (const e of live) if (e.kind === 'timer_start' && e.timer_id && !timerGoal.has(e.timer_id)) timerGoal.set(e.timer_id, e.goal_id ?? null);
  const timers = new Map();
  for (const e of live) {
    if (e.kind === 'timer_start' || e.kind === 'timer_stop') {
      if (!e.timer_id) continue;
      const goalId = timerGoal.has(e.timer_id) ? timerGoal.get(e.timer_id) : e.goal_id ?? null;
      result(goalId).events += 1;
      if (!timers.has(e.timer_id)) timers.set(e.timer_id, { goalId, starts: [], stops: [] });
      timers.get(e.timer_id)[e.kind === 'timer_start' ? 'starts' : 'stops'].push(time(e));
      continue;
    }
    const r = result(e.goal_id);
    r.events += 1;
    if (e.kind === 'trial' && OUTCOMES.includes(e.outcome)) {
      r.trials[e.outcome] += 1;
      if (e.outcome === 'correct' && (e.prompt ?? 'independent') === 'independent') r.independent += 1;
    } else if (e.kind === 'tally' && e.delta != null) {
      r.tally += e.delta;
    } else if (e.kind === 'rating' && e.value != null) {
      r.ratings.push(e.value);
    } else if (e.kind === 'step' && e.step_index != null) {
      r.steps.set(e.step_index, e); // live is sorted: the last one seen is the latest
    }
  }
  for (const r of results.values()) r.tally = Math.max(0, r.tally);
  const runs = new Map();
  for (const timer of timers.values()) {
    const r = result(timer.goalId);
    if (!timer.starts.length) continue; // a stop with no start counts nothing
    const start = Math.min(...timer.starts);
    const stops = timer.stops.filter((s) => s >= start);
    const list = runs.get(r) || [];
    if (stops.length) list.push([start, Math.min(...stops)]);
    else if (closed != null && closed > start) list.push([start, closed]);
    else if (closed == null) r.runningSince = r.runningSince == null ? start : Math.min(r.runningSince, start);
    runs.set(r, list);
  }
  for (const [r, list] of runs) r.runs = union(list);
  return results;
}

const seconds = (runs) => runs.reduce((sum, [a, b]) => sum + (b - a), 0) / 1000;
const longest = (runs) => runs.reduce((best, [a, b]) => Math.max(best, b - a), 0) / 1000;

// The figures of one goal by its measurement type (the fields of derive.Figures).
export function figures(r, measurement, { continuous = false } = {}) {
  if (!r) return { entries: 0 };
  const entries = r.events;
  switch (measurement) {
    case 'trials': {
      const total = r.trials.correct + r.trials.incorrect + r.trials.no_response;
      return { entries, correct: r.trials.correct, total, independent: r.independent };
    }
    case 'frequency':
      return { entries, count: r.tally };
    case 'duration':
      return { entries, seconds: continuous ? longest(r.runs) : seconds(r.runs), running: r.runningSince != null, runningSince: r.runningSince };
    case 'rating':
      return {
        entries,
        ratings: r.ratings.length,
        rating_mean: r.ratings.length ? r.ratings.reduce((a, b) => a + b, 0) / r.ratings.length : null,
        last: r.ratings.length ? r.ratings[r.ratings.length - 1] : null,
      };
    case 'task_analysis': {
      const steps = [...r.steps.values()];
      const done = steps.filter((s) => s.outcome === 'correct');
      return {
        entries,
        steps_done: done.length,
        independent: done.filter((s) => (s.prompt ?? 'independent') === 'independent').length,
        // Per step (0-based index): its latest outcome, and the prompt level it had.
        stepState: new Map(steps.map((s) => [s.step_index, s.outcome])),
        stepPrompt: new Map(steps.map((s) => [s.step_index, s.prompt ?? 'independent'])),
      };
    }
    default:
      return { entries };
  }
}

// A session's entry count: every live event of every goal and of none.
export function sessionEntries(results) {
  let n = 0;
  for (const r of results.values()) n += r.events;
  return n;
}

// Seconds a duration goal reads right now, a running timer counted up to `now` (ms).
export function secondsNow(f, now, { continuous = false } = {}) {
  if (!f.running) return f.seconds;
  const live = (now - f.runningSince) / 1000;
  return continuous ? Math.max(f.seconds, live) : f.seconds + live;
}
