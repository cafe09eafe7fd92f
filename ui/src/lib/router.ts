// A small hash router: `#/access/reviews/<id>` and friends. Pure parse/format functions (tested),
// plus a reactive current route in router.svelte.ts.

export const SECTIONS = [
  'dashboard',
  'enrollment',
  'keys',
  'vault',
  'access',
  'users',
  'incidents',
  'training',
  'audit',
  'settings',
] as const;
export type Section = (typeof SECTIONS)[number];

export const ACCESS_TABS = ['reviews', 'requests', 'roles'] as const;
export type AccessTab = (typeof ACCESS_TABS)[number];

export type Route =
  | { section: Exclude<Section, 'access' | 'users'> }
  | { section: 'access'; tab: AccessTab; id?: string }
  | { section: 'users'; id?: string }
  | { section: 'not_found'; path: string };

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\//, '').replace(/\/+$/, '');
  if (path === '') return { section: 'dashboard' };
  const parts = path.split('/').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return '\u0000';
    }
  });
  const [head, second, third, ...rest] = parts;
  if (rest.length > 0 || parts.some((part) => part === '' || part === '\u0000')) return { section: 'not_found', path };
  if (head === 'access') {
    if (second === undefined) return { section: 'access', tab: 'reviews' };
    if (!(ACCESS_TABS as readonly string[]).includes(second)) return { section: 'not_found', path };
    const tab = second as AccessTab;
    if (third === undefined) return { section: 'access', tab };
    if (tab !== 'reviews' || !ID.test(third)) return { section: 'not_found', path };
    return { section: 'access', tab, id: third };
  }
  if (head === 'users') {
    if (third !== undefined) return { section: 'not_found', path };
    if (second === undefined) return { section: 'users' };
    return ID.test(second) ? { section: 'users', id: second } : { section: 'not_found', path };
  }
  if (second === undefined && (SECTIONS as readonly string[]).includes(head ?? '')) {
    return { section: head as Exclude<Section, 'access' | 'users'> };
  }
  return { section: 'not_found', path };
}

export function formatRoute(route: Route): string {
  switch (route.section) {
    case 'access':
      return `#/access/${route.tab}${route.id === undefined ? '' : `/${encodeURIComponent(route.id)}`}`;
    case 'users':
      return `#/users${route.id === undefined ? '' : `/${encodeURIComponent(route.id)}`}`;
    case 'not_found':
      return `#/${route.path}`;
    default:
      return `#/${route.section}`;
  }
}
