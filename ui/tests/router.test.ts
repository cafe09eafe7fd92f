import { describe, expect, it } from 'vitest';
import { formatRoute, parseHash, SECTIONS, type Route } from '../src/lib/router';

describe('hash router', () => {
  it('sends the empty hash to the dashboard', () => {
    expect(parseHash('')).toEqual({ section: 'dashboard' });
    expect(parseHash('#/')).toEqual({ section: 'dashboard' });
  });

  it('knows every section of the navigation', () => {
    for (const section of SECTIONS) {
      const route = parseHash(`#/${section}`);
      expect(route.section).toBe(section);
    }
  });

  it('reads nested routes', () => {
    expect(parseHash('#/access')).toEqual({ section: 'access', tab: 'reviews' });
    expect(parseHash('#/access/requests')).toEqual({ section: 'access', tab: 'requests' });
    expect(parseHash('#/access/reviews/7b1c')).toEqual({ section: 'access', tab: 'reviews', id: '7b1c' });
    expect(parseHash('#/users/3f2a-99')).toEqual({ section: 'users', id: '3f2a-99' });
  });

  it('refuses what does not exist', () => {
    for (const hash of ['#/nope', '#/access/bogus', '#/access/roles/x', '#/users/a/b', '#/dashboard/x', '#/users/%E0%A4%A', '#/users/a b', '#//users']) {
      expect(parseHash(hash).section, hash).toBe('not_found');
    }
  });

  it('round-trips every route it formats', () => {
    const routes: Route[] = [
      { section: 'dashboard' },
      { section: 'audit' },
      { section: 'access', tab: 'roles' },
      { section: 'access', tab: 'reviews', id: 'c0ffee-1' },
      { section: 'users' },
      { section: 'users', id: 'abc' },
    ];
    for (const route of routes) expect(parseHash(formatRoute(route))).toEqual(route);
  });
});
