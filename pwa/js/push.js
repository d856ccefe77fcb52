// Web Push subscription, the client side. enableNotifications() must run from a user
// gesture (a tap on "Turn on notifications"): the permission prompt is asked there and
// nowhere else, before any await, so the browser still sees the tap.
//
// iPhone and iPad deliver Web Push only to a web app added to the Home Screen (iOS
// 16.4+): in Safari proper we explain how to add it instead of asking.
//
// The app's own UI imports this module on demand; on server-rendered pages (/parent) it
// wires every [data-enable-notifications] button by itself.

const CSRF_COOKIE = /(?:^|;\s*)tandem_csrf=([^;]+)/;

function isIOS() {
  const ua = navigator.userAgent || '';
  return /iPad|iPhone|iPod/.test(ua) || (ua.includes('Macintosh') && navigator.maxTouchPoints > 1);
}

function isStandalone() {
  return window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
}

function keyBytes(base64url) {
  const padded = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameKey(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

async function registration() {
  const existing = await navigator.serviceWorker.getRegistration('/');
  if (existing) return navigator.serviceWorker.ready;
  await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
  return navigator.serviceWorker.ready;
}

/**
 * Ask for permission (from the current user gesture), subscribe this browser and send
 * the subscription to the server. Resolves to {state, detail?}:
 * 'subscribed' | 'ios-install' | 'unsupported' | 'no-service' | 'denied' | 'error'.
 */
export async function enableNotifications() {
  if (isIOS() && !isStandalone()) return { state: 'ios-install' };
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return { state: 'unsupported' };
  }
  // First, while the tap is still "now": the permission prompt.
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return { state: 'denied' };
  try {
    const keyResponse = await fetch('/api/push/key', { credentials: 'same-origin' });
    if (!keyResponse.ok) return { state: 'error', detail: `key ${keyResponse.status}` };
    const serverKey = keyBytes((await keyResponse.json()).public_key);
    const reg = await registration();
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub.options && sub.options.applicationServerKey, serverKey)) {
      await sub.unsubscribe(); // made for another key (rotated): useless now
      sub = null;
    }
    if (!sub) {
      try {
        sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
      } catch (err) {
        // The browser has no push service to register with (a desktop browser without
        // one, a privacy mode): nothing the person did wrong, and retrying will not help.
        return { state: 'no-service', detail: String((err && err.message) || err) };
      }
    }
    const json = sub.toJSON();
    const response = await fetch('/api/push/subscriptions', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/json',
        'x-csrf-token': (document.cookie.match(CSRF_COOKIE) || [])[1] || '',
      },
      body: JSON.stringify({ endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: json.keys }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      return { state: 'error', detail: body.detail || `HTTP ${response.status}` };
    }
    return { state: 'subscribed' };
  } catch (err) {
    return { state: 'error', detail: String((err && err.message) || err) };
  }
}

const MESSAGES = {
  en: {
    subscribed: 'Notifications are on for this phone.',
    denied: 'Notifications are blocked. You can allow them in your browser settings.',
    unsupported: 'This browser cannot receive notifications. Open Tandem on your phone, or in Chrome, Edge, Firefox or Safari, to get them.',
    'no-service':
      'This browser could not reach its notification service, so it cannot show notifications here. Open Tandem on your phone (on an iPhone, add it to the Home Screen first) or in another browser. You can still read everything on this page.',
    error: 'Notifications could not be turned on just now. Please try again in a moment.',
  },
  es: {
    subscribed: 'Las notificaciones están activadas en este teléfono.',
    denied: 'Las notificaciones están bloqueadas. Puede permitirlas en los ajustes del navegador.',
    unsupported: 'Este navegador no puede recibir notificaciones. Abra Tandem en su teléfono, o en Chrome, Edge, Firefox o Safari, para recibirlas.',
    'no-service':
      'Este navegador no pudo conectarse con su servicio de notificaciones, así que aquí no puede mostrarlas. Abra Tandem en su teléfono (en un iPhone, primero agréguelo a la pantalla de inicio) o en otro navegador. Igual puede leer todo en esta página.',
    error: 'No se pudieron activar las notificaciones en este momento. Inténtelo de nuevo en un rato.',
  },
};

function wire(button) {
  const status = document.querySelector('[data-push-status]');
  const lang = document.documentElement.lang === 'es' ? 'es' : 'en';
  button.addEventListener('click', async () => {
    button.disabled = true;
    const result = await enableNotifications();
    button.disabled = result.state === 'subscribed';
    if (status) {
      status.textContent =
        result.state === 'ios-install' ? button.dataset.iosHint || '' : MESSAGES[lang][result.state] || '';
      status.dataset.state = result.state;
    }
  });
}

if (typeof document !== 'undefined') {
  for (const button of document.querySelectorAll('[data-enable-notifications]')) wire(button);
}
