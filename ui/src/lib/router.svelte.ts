import { formatRoute, parseHash, type Route } from './router';

let current = $state<Route>(parseHash(globalThis.location?.hash ?? ''));

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    current = parseHash(window.location.hash);
  });
}

export const router = {
  get route(): Route {
    return current;
  },
  go(route: Route): void {
    const hash = formatRoute(route);
    if (window.location.hash !== hash) window.location.hash = hash;
    current = parseHash(hash);
  },
};
