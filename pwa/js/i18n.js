// Strings of the app, in the user's language (English or Spanish, from /api/me).
const STRINGS = {
  en: {
    students: 'Students',
    messages: 'Messages',
    notes: 'Progress notes',
    settings: 'Settings',
    logout: 'Log out',
    allSynced: 'All synced',
    pending: (n) => `${n} not yet synced`,
    lastSync: (t) => `last sync ${t}`,
    never: 'never synced',
    offline: 'Offline',
    loginToSend: 'Log in again to send',
    otherUser: 'Another account is logged in',
    syncNow: 'Sync now',
    retry: 'Sync failed; will retry',
    updateReady: 'An update is ready.',
    updateNow: 'Update now',
    noStudents: 'No students yet. They appear here after the first sync.',
    noThreads: 'No message threads yet.',
    loading: 'Loading…',
    threadFor: (name) => `Messages about ${name}`,
    draftLabel: 'Your message',
    draftSaved: 'Draft saved on this device',
    send: 'Send',
    queued: 'waiting to send',
    conflictTitle: 'This draft was also changed on another device. Both texts are kept:',
    conflictOther: 'Text from the other device',
    useOther: 'Use the other text',
    keepMine: 'Keep my text',
    notices: 'Not accepted by the server',
    correctionNotice: 'Sent as a correction for the teacher to approve',
    lostOps: (n) => `${n} entries were lost from this device before they could be sent.`,
    back: 'Back',
    notifications: 'Turn on notifications',
    logoutConfirm: (n) =>
      `${n} entries are not synced yet and cannot reach the server now. Log out anyway and DELETE them from this phone?`,
    logoutSyncing: 'Sending your entries before logging out…',
    unknownUser: 'Log in to use Tandem.',
    login: 'Log in',
    accountNews: 'There is news about the security of your account.',
    accountNewsLink: 'See what happened',
  },
  es: {
    students: 'Estudiantes',
    messages: 'Mensajes',
    notes: 'Notas de progreso',
    settings: 'Ajustes',
    logout: 'Cerrar sesión',
    allSynced: 'Todo sincronizado',
    pending: (n) => `${n} sin sincronizar`,
    lastSync: (t) => `última sincronización ${t}`,
    never: 'nunca sincronizado',
    offline: 'Sin conexión',
    loginToSend: 'Inicie sesión de nuevo para enviar',
    otherUser: 'Hay otra cuenta con la sesión iniciada',
    syncNow: 'Sincronizar ahora',
    retry: 'Error al sincronizar; se reintentará',
    updateReady: 'Hay una actualización lista.',
    updateNow: 'Actualizar ahora',
    noStudents: 'Aún no hay estudiantes.',
    noThreads: 'Aún no hay conversaciones.',
    loading: 'Cargando…',
    threadFor: (name) => `Mensajes sobre ${name}`,
    draftLabel: 'Su mensaje',
    draftSaved: 'Borrador guardado en este dispositivo',
    send: 'Enviar',
    queued: 'pendiente de envío',
    conflictTitle: 'Este borrador también cambió en otro dispositivo. Se conservan ambos textos:',
    conflictOther: 'Texto del otro dispositivo',
    useOther: 'Usar el otro texto',
    keepMine: 'Conservar mi texto',
    notices: 'No aceptado por el servidor',
    correctionNotice: 'Enviado como corrección para que la maestra la apruebe',
    lostOps: (n) => `Se perdieron ${n} registros de este dispositivo antes de enviarlos.`,
    back: 'Volver',
    notifications: 'Activar notificaciones',
    logoutConfirm: (n) =>
      `${n} registros aún no se han sincronizado. ¿Cerrar sesión de todos modos y BORRARLOS de este teléfono?`,
    logoutSyncing: 'Enviando sus registros antes de cerrar sesión…',
    unknownUser: 'Inicie sesión para usar Tandem.',
    login: 'Iniciar sesión',
    accountNews: 'Hay novedades sobre la seguridad de su cuenta.',
    accountNewsLink: 'Ver qué pasó',
  },
};

let lang = 'en';

export function setLanguage(language) {
  lang = STRINGS[language] ? language : 'en';
  document.documentElement.lang = lang;
}

export function t(key, ...args) {
  const value = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
  return typeof value === 'function' ? value(...args) : value;
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
