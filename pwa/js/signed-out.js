// After a Log out from one of the server pages (/teacher, /parent, …), the same clean-up
// of this browser's local data as the app's own Log out: the session is gone for the
// whole browser, so every user's database is deleted, except one that still holds ops
// not yet sent. Those are never dropped silently: the page says so, and the same person
// logs in again to send them. Nobody stays remembered as the device's last user, so the
// app opens no one's records offline.
import { forgetUser, openUserDb, wipeUserDb } from '/static/js/store.js';

const PREFIX = 'tandem-user-';

async function clearLocalData() {
  await forgetUser();
  const all = indexedDB.databases ? await indexedDB.databases() : [];
  let unsent = 0;
  for (const { name } of all) {
    if (!name || !name.startsWith(PREFIX)) continue;
    const userId = Number(name.slice(PREFIX.length));
    if (!Number.isInteger(userId)) continue;
    const db = await openUserDb(userId);
    const pendingOps = await db.count('outbox');
    if (pendingOps === 0) {
      await wipeUserDb(userId);
    } else {
      unsent += pendingOps;
      db.close();
    }
  }
  return unsent;
}

clearLocalData()
  .then((unsent) => {
    if (unsent > 0) {
      const notice = document.getElementById('signed-out-notice');
      for (const el of notice.querySelectorAll('[data-count]')) el.textContent = String(unsent);
      notice.hidden = false;
    }
    document.body.dataset.localData = unsent > 0 ? 'kept-unsent' : 'cleared';
  })
  .catch(() => {
    document.body.dataset.localData = 'failed';
  });
