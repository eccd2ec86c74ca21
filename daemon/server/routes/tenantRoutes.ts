import { Router } from 'express';
import {
  addTenantSchema,
  lockUserSchema,
  rotateCredentialsSchema,
  unlockUserSchema,
  userListQuerySchema,
  type LockOutcome,
  type RefreshOutcome,
  type UserPage,
} from '../../../protocol/daemonApi';
import { AppError } from '../../errors/AppError';
import type { UserActionResult } from '../../services/userActions';
import { callerOf } from '../apiCaller';
import { operatorOf, type DaemonServices } from '../daemonServices';
import { mayReachTenant } from '../tenantScope';

/** Tenants, their users, and what the operator does to them. HTTP only: the work is in the services. */
export function tenantRoutes(services: DaemonServices): Router {
  const { views } = services;
  const router = Router();

  router.get('/tenants', async (request, response) => {
    const caller = callerOf(request);
    const tenants = (await services.tenants.list()).filter((tenant) => mayReachTenant(caller, tenant));
    // `{tenants: [...]}` as response.json would send it, joined from kept views.
    response.type('json').send(await views.tenantsJson(tenants));
  });

  router.post('/tenants', async (request, response) => {
    const body = addTenantSchema.parse(request.body);
    const caller = callerOf(request);
    // An engineer restricted to some tenants adds only those: anything else would be one they cannot see.
    if (!mayReachTenant(caller, { id: '', tenantIdOrDomain: body.tenant })) {
      throw new AppError({
        status: 403,
        code: 'FORBIDDEN',
        message: `${caller.name} is restricted to some tenants, and ${body.tenant} is not one of them.`,
        details: { field: 'tenant' },
      });
    }
    const tenant = await services.registry.register({
      tenant: body.tenant,
      displayName: body.displayName,
      appId: body.appId,
      credential: body.credential,
      pollIntervalMs: body.pollIntervalSeconds ? body.pollIntervalSeconds * 1000 : undefined,
      by: operatorOf(request, services),
    });
    response.status(201).json(await views.tenant(tenant));
  });

  router.get('/tenants/:id', async (request, response) => {
    response.json(await views.tenant(await services.tenants.get(request.params.id)));
  });

  router.delete('/tenants/:id', async (request, response) => {
    await services.registry.remove(request.params.id, operatorOf(request, services));
    response.status(204).end();
  });

  router.put('/tenants/:id/credentials', async (request, response) => {
    const body = rotateCredentialsSchema.parse(request.body);
    const tenant = await services.registry.rotate(request.params.id, body.credential, operatorOf(request, services));
    response.json(await views.tenant(tenant));
  });

  router.post('/tenants/:id/credential-health', async (request, response) => {
    response.json(await views.tenant(await services.health.recheck(request.params.id)));
  });

  router.post('/tenants/:id/refresh', async (request, response) => {
    const result = await services.refresh.refresh(request.params.id, operatorOf(request, services));
    const answer: RefreshOutcome =
      result.outcome === 'queued'
        ? {
            outcome: 'queued',
            activity: await views.activity(result.activity),
            tasks: result.tasks.map((task) => views.task(task)),
            message: 'Update AD cache and Check account status tasks were added and will run shortly.',
          }
        : {
            outcome: 'already-requested',
            activity: await views.activity(result.activity),
            earlierTask: views.task(result.earlierTask),
            message: result.activity.description,
          };
    response.status(result.outcome === 'queued' ? 202 : 200).json(answer);
  });

  router.get('/tenants/:id/users', async (request, response) => {
    const query = userListQuerySchema.parse(request.query);
    const { users, total, offset, limit } = await services.tenants.usersPage(request.params.id, query);
    const page: UserPage = { users: users.map((user) => views.user(user)), total, offset, limit };
    response.json(page);
  });

  const answer = async (result: UserActionResult): Promise<LockOutcome> =>
    result.outcome === 'unchanged'
      ? { outcome: 'unchanged', user: views.user(result.user), message: result.message }
      : { outcome: result.outcome, user: views.user(result.user), activity: await views.activity(result.activity) };

  router.post('/tenants/:id/users/:userId/lock', async (request, response) => {
    const body = lockUserSchema.parse(request.body ?? {});
    const { id, userId } = request.params;
    const by = operatorOf(request, services);
    response.json(
      await answer(await services.actions.lock(id, userId, { by, revokeSessions: body.revokeSessions ?? false, overrideOnPremises: body.overrideOnPremises ?? false })),
    );
  });

  router.post('/tenants/:id/users/:userId/unlock', async (request, response) => {
    const body = unlockUserSchema.parse(request.body ?? {});
    const { id, userId } = request.params;
    const by = operatorOf(request, services);
    response.json(await answer(await services.actions.unlock(id, userId, { by, overrideOnPremises: body.overrideOnPremises ?? false })));
  });

  return router;
}
