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

// Small transactions: a tap's write waits for any readwrite transaction already running on
// its stores, so a pull of thousands of rows is applied a slice at a time.
const SLICE = 100;

export async function applyChanges(db, changes) {
  for (const name of [...UPSERTS, 'observations']) {
    const rows = changes[name] || [];
    for (let i = 0; i < rows.length; i += SLICE) {
      await applySlice(db, { [name]: rows.slice(i, i + SLICE) });
    }
  }
  if (changes.removed) await applySlice(db, { removed: changes.removed });
}

async function applySlice(db, changes) {
  if (changes.removed) return applyRemoved(db, changes.removed);
  const [name] = Object.keys(changes);
  const rows = changes[name];
  // Only the store this slice writes: a tap's transaction (outbox, entries) is not held
  // up by students or messages arriving. Requests are issued together, not one by one.
  if (name === 'observations') {
    const tx = db.transaction('entries', 'readwrite');
    const mine = await Promise.all(rows.map((o) => tx.store.get(o.op_id)));
    rows.forEach((o, i) => {
      const local = mine[i];
      if (local && local.synced && local.state === o.state) return; // nothing new
      // Merge: a local entry keeps its order and exact timer clocks.
      tx.store.put({ ...(local || {}), ...observationToEntry(o), at: local ? local.at : o.recorded_at });
    });
    await tx.done;
    return undefined;
  }
  const tx = db.transaction(name, 'readwrite');
  if (name === 'drafts') {
    const mine = await Promise.all(rows.map((row) => tx.store.get(row.thread_id)));
    rows.forEach((row, i) => {
      // Keep what the user typed here since the last save; take the server's version
      // (and any conflict) to send next.
      const local = mine[i];
      tx.store.put(local && local.dirty ? { ...local, server: row, base_version: row.version } : { ...row, base_version: row.version, dirty: false });
    });
  } else {
    for (const row of rows) {
      if (name === 'goals' && row.active === false) tx.store.delete(row.id);
      else tx.store.put(row);
    }
  }
  await tx.done;
  return undefined;
}

async function applyRemoved(db, removed) {
  const stores = [...UPSERTS, 'entries'];
  const tx = db.transaction([...new Set(stores)], 'readwrite');
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
