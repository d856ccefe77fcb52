// Apply the `changes` of a sync response (docs/sync-protocol.md §8) to this user's
// database: upsert by id, and forget students that left the user's scope with
// everything about them. One transaction; no network inside.
const UPSERTS = ['students', 'goals', 'services', 'sessions', 'threads', 'messages', 'drafts'];
const BY_STUDENT = ['goals', 'services', 'sessions', 'threads'];

export function observationToEntry(o) {
  return {
    op_id: o.op_id,
    session_id: o.session_id,
    goal_id: o.goal_id,
    kind: o.kind,
    outcome: o.outcome,
    prompt: o.prompt,
    delta: o.delta,
    timer_id: o.timer_id,
    value: o.value,
    step_index: o.step_index,
    note: o.note,
    voids_op_id: o.voids_op_id,
    state: o.state,
    at: o.recorded_at,
    synced: true,
  };
}

export async function applyChanges(db, changes) {
  const stores = [...UPSERTS, 'entries', 'messages', 'timers'];
  const tx = db.transaction([...new Set(stores)], 'readwrite');
  for (const name of UPSERTS) {
    for (const row of changes[name] || []) {
      if (name === 'drafts') {
        // Keep what the user typed here since the last save; take the server's
        // version (and any conflict) to send next.
        const mine = await tx.objectStore('drafts').get(row.thread_id);
        const merged = mine && mine.dirty ? { ...mine, server: row, base_version: row.version } : { ...row, base_version: row.version, dirty: false };
        await tx.objectStore('drafts').put(merged);
      } else if (name === 'goals' && row.active === false) {
        await tx.objectStore('goals').delete(row.id);
      } else {
        await tx.objectStore(name).put(row);
      }
    }
  }
  for (const o of changes.observations || []) {
    // Merge: a local entry keeps its sequence number and exact timer clocks.
    const mine = await tx.objectStore('entries').get(o.op_id);
    await tx.objectStore('entries').put({ ...(mine || {}), ...observationToEntry(o), at: mine ? mine.at : o.recorded_at });
  }
  const removed = changes.removed || {};
  for (const goalId of removed.goals || []) await tx.objectStore('goals').delete(goalId);
  for (const studentId of removed.students || []) {
    await tx.objectStore('students').delete(studentId);
    for (const name of BY_STUDENT) {
      const keys = await tx.objectStore(name).index('student_id').getAllKeys(studentId);
      for (const key of keys) {
        if (name === 'sessions') {
          const entryKeys = await tx.objectStore('entries').index('session_id').getAllKeys(key);
          for (const k of entryKeys) await tx.objectStore('entries').delete(k);
        }
        if (name === 'threads') {
          const msgKeys = await tx.objectStore('messages').index('thread_id').getAllKeys(key);
          for (const k of msgKeys) await tx.objectStore('messages').delete(k);
          await tx.objectStore('drafts').delete(key);
        }
        await tx.objectStore(name).delete(key);
      }
    }
  }
  await tx.done;
}
