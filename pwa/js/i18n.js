// The app's words in the user's language. Each string is an English msgid marked N_()
// (`make i18n` extracts them into the same gettext catalogs as the server's pages); the
// words of other languages come from /i18n/<lang>.json, made from those catalogs and
// precached with the shell, so they work offline (docs/i18n.md). tests/unit/
// test_catalogs.py fails while a catalog lacks one of these.
const N_ = (msgid) => msgid;

// key: [msgid, the names of the placeholders that t(key, ...args) fills, in order].
const STRINGS = {
  students: [N_("Students")],
  messages: [N_("Messages")],
  notes: [N_("Progress notes")],
  settings: [N_("Settings")],
  logout: [N_("Log out")],
  allSynced: [N_("All synced")],
  pending: [N_("%(n)s not yet synced"), 'n'],
  lastSync: [N_("last sync %(t)s"), 't'],
  never: [N_("never synced")],
  offline: [N_("Offline")],
  loginToSend: [N_("Log in again to send")],
  otherUser: [N_("Another account is logged in")],
  syncNow: [N_("Sync now")],
  retry: [N_("Sync failed; will retry")],
  updateReady: [N_("An update is ready.")],
  updateNow: [N_("Update now")],
  noStudents: [N_("No students yet. They appear here after the first sync.")],
  yourStudents: [N_("Your students")],
  grade: [N_("grade %(g)s"), 'g'],
  sessionOpen: [N_("session open")],
  accountSettings: [N_("Language, time zone and account")],
  noThreads: [N_("No message threads yet.")],
  loading: [N_("Loading…")],
  threadFor: [N_("Messages about %(name)s"), 'name'],
  draftLabel: [N_("Your message")],
  draftSaved: [N_("Draft saved on this device")],
  send: [N_("Send")],
  queued: [N_("waiting to send")],
  conflictTitle: [N_("This draft was also changed on another device. Both texts are kept:")],
  conflictOther: [N_("Text from the other device")],
  useOther: [N_("Use the other text")],
  keepMine: [N_("Keep my text")],
  notices: [N_("Not accepted by the server")],
  correctionNotice: [N_("Sent as a correction for the teacher to approve")],
  lostOps: [N_("%(n)s entries were lost from this device before they could be sent."), 'n'],
  back: [N_("Back")],
  notifications: [N_("Turn on notifications")],
  logoutConfirm: [N_("%(n)s entries are not synced yet and cannot reach the server now. Log out anyway and DELETE them from this phone?"), 'n'],
  logoutSyncing: [N_("Sending your entries before logging out…")],
  unknownUser: [N_("Log in to use Tandem.")],
  login: [N_("Log in")],
  accountNews: [N_("There is news about the security of your account.")],
  accountNewsLink: [N_("See what happened")],
  prompt_independent: [N_("Independent")],
  prompt_gestural: [N_("Gestural")],
  prompt_verbal: [N_("Verbal")],
  prompt_model: [N_("Model")],
  prompt_partial_physical: [N_("Partial physical")],
  prompt_full_physical: [N_("Full physical")],
  promptFor: [N_("Prompt level for %(area)s"), 'area'],
  promptNow: [N_("Prompt: %(name)s"), 'name'],
  stepDone: [N_("✓ done · %(prompt)s"), 'prompt'],
  stepMissed: [N_("✗ missed · %(prompt)s"), 'prompt'],
  stepNotYet: [N_("not yet")],
  undoLast: [N_("Undo last")],
  undone: [N_("Undone: %(what)s"), 'what'],
  nothingToUndo: [N_("Nothing to undo")],
  what_correct: [N_("✓ correct")],
  what_incorrect: [N_("✗ incorrect")],
  what_no_response: [N_("– no response")],
  whatTallyUp: [N_("+1")],
  whatTallyDown: [N_("−1")],
  whatRating: [N_("rating %(v)s"), 'v'],
  whatStep: [N_("step %(n)s %(mark)s"), 'n', 'mark'],
  whatTimerStart: [N_("timer start")],
  whatTimerStop: [N_("timer stop")],
  whatNote: [N_("note “%(text)s”"), 'text'],
  serviceMinutes: [N_("service minutes")],
  note: [N_("Note")],
  addNote: [N_("Add note")],
  notesHere: [N_("Notes in this session")],
  undoNote: [N_("Undo")],
  closeSession: [N_("Close session…")],
  closeAsk: [N_("Close this session? It goes to the teacher for review.")],
  closeYes: [N_("Yes, close it")],
  closeNo: [N_("Keep recording")],
  closedAt: [N_("Session closed at %(time)s."), 'time'],
  reopen: [N_("Reopen session")],
  reopened: [N_("Session reopened")],
  closedSent: [N_("It was sent: it is in the teacher’s review queue and cannot be reopened here.")],
  anchorLow: [N_("not yet")],
  anchorHigh: [N_("with no help")],
  anchor: [N_("%(v)s = %(label)s"), 'v', 'label'],
};

let lang = 'en';
let words = {}; // msgid -> the words in `lang`

// Load the user's language (before the first screen is drawn). Unknown, or offline with
// nothing cached: English.
export async function setLanguage(language) {
  lang = 'en';
  words = {};
  if (language && language !== 'en') {
    try {
      const r = await fetch(`/i18n/${encodeURIComponent(language)}.json`, { credentials: 'same-origin' });
      if (r.ok) {
        const catalog = await r.json();
        words = catalog.messages || {};
        lang = catalog.language || language;
      }
    } catch {
      // No network and no cached catalog: English rather than nothing.
    }
  }
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export function t(key, ...args) {
  const entry = STRINGS[key];
  if (!entry) return key;
  const [msgid, ...names] = entry;
  const text = typeof words[msgid] === 'string' && words[msgid] ? words[msgid] : msgid;
  if (!names.length) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => {
    const i = names.indexOf(name);
    return i < 0 ? whole : String(args[i]);
  });
}

let clockFormat = null;
export function clock(iso) {
  if (!iso) return '';
  // One formatter, made once: Intl objects are expensive to build on a tap.
  if (!clockFormat || clockFormat.resolvedOptions().locale.slice(0, 2) !== lang) {
    clockFormat = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
  }
  return clockFormat.format(new Date(iso));
}
