import assert from 'node:assert/strict';
import { engineerRoles, roleAllows } from '../../../protocol/daemonApi';
import { API_ROUTE_SHAPES } from '../../../daemon/server/apiRouteShapes';
import { ROUTE_ROLES, ROUTES_ACROSS_TENANTS, routeKey } from '../../../daemon/server/routeRoles';

describe('route roles: one table for every route of the API', () => {
  it('names the role of every route in the route table, and no route that does not exist', () => {
    const routes = API_ROUTE_SHAPES.map(routeKey).sort();
    assert.deepEqual(Object.keys(ROUTE_ROLES).sort(), routes);
  });

  it('leaves only the health check open', () => {
    assert.deepEqual(
      Object.entries(ROUTE_ROLES)
        .filter(([, access]) => access === 'open')
        .map(([route]) => route),
      ['GET /v1/health'],
    );
  });

  it('gives lock and unlock to operators, tenant management to admins, and reading and refreshing to readers', () => {
    assert.equal(ROUTE_ROLES['POST /v1/tenants/:id/users/:userId/lock'], 'operator');
    assert.equal(ROUTE_ROLES['POST /v1/tenants/:id/users/:userId/unlock'], 'operator');
    for (const route of ['POST /v1/tenants', 'DELETE /v1/tenants/:id', 'PUT /v1/tenants/:id/credentials']) assert.equal(ROUTE_ROLES[route], 'admin', route);
    for (const route of ['GET /v1/tenants', 'POST /v1/tenants/:id/refresh', 'POST /v1/tenants/:id/credential-health', 'GET /v1/events']) {
      assert.equal(ROUTE_ROLES[route], 'reader', route);
    }
  });

  it('keeps app profiles and onboarding, which concern every customer, to admins', () => {
    assert.ok(ROUTES_ACROSS_TENANTS.size > 0);
    for (const route of ROUTES_ACROSS_TENANTS) assert.equal(ROUTE_ROLES[route], 'admin', route);
    for (const route of Object.keys(ROUTE_ROLES).filter((key) => key.includes('/app-profiles'))) assert.ok(ROUTES_ACROSS_TENANTS.has(route), route);
  });

  it('lets each role do what the roles before it may, nothing of the roles after it, and a role not known yet nothing', () => {
    const allowed = engineerRoles.map((role) => engineerRoles.filter((needed) => roleAllows(role, needed)));
    assert.deepEqual(allowed, [['reader'], ['reader', 'operator'], ['reader', 'operator', 'admin']]);
    assert.deepEqual(engineerRoles.filter((needed) => roleAllows(undefined, needed)), []);
  });
});
