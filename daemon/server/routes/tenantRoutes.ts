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
import { handleError } from '../../errors/handleError';
import type { UserActionResult } from '../../services/userActions';
import { operatorOf, type DaemonServices } from '../daemonServices';

/** Tenants, their users, and what the operator does to them. HTTP only: the work is in the services. */
export function tenantRoutes(services: DaemonServices, sinks: Parameters<typeof handleError>[2]): Router {
  const { store, views } = services;
  const router = Router();

  router.get('/tenants', async (_request, response) => {
    response.json({ tenants: await Promise.all((await store.listTenants()).map((tenant) => views.tenant(tenant))) });
  });

  router.post('/tenants', async (request, response) => {
    const body = addTenantSchema.parse(request.body);
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
    response.json(await views.tenant(await store.requireTenant(request.params.id)));
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
    await services.health.check(request.params.id);
    response.json(await views.tenant(await store.requireTenant(request.params.id)));
  });

  router.post('/tenants/:id/refresh', async (request, response) => {
    const result = await services.refresh.refresh(request.params.id, operatorOf(request, services));
    await services.status.update(request.params.id);
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
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    const { users, total } = await store.listUsers(request.params.id, { ...query, offset, limit });
    const page: UserPage = { users: users.map((user) => views.user(user)), total, offset, limit };
    response.json(page);
  });

  const answer = async (result: UserActionResult): Promise<LockOutcome> =>
    result.outcome === 'unchanged'
      ? { outcome: 'unchanged', user: views.user(result.user), message: result.message }
      : { outcome: result.outcome, user: views.user(result.user), activity: await views.activity(result.activity) };

  // Lock and unlock: the action's failure is recorded as an action (system log, keyed by tenant) before
  // Express answers with the same error.
  /** Runs a lock or unlock; its failure is recorded as an action (system log, keyed by tenant) before
   * Express answers with the same error. Bad input was refused before, as the caller's business. */
  const act = async (target: { id: string; userId: string }, verb: 'lock' | 'unlock', action: () => Promise<UserActionResult>): Promise<LockOutcome> => {
    try {
      return await answer(await action());
    } catch (error) {
      handleError(error, { source: 'action', tenantId: target.id, operation: `${verb} ${target.userId}` }, sinks);
      throw error;
    }
  };

  router.post('/tenants/:id/users/:userId/lock', async (request, response) => {
    const body = lockUserSchema.parse(request.body ?? {});
    const { id, userId } = request.params;
    const by = operatorOf(request, services);
    response.json(
      await act(request.params, 'lock', () =>
        services.actions.lock(id, userId, { by, revokeSessions: body.revokeSessions ?? false, overrideOnPremises: body.overrideOnPremises ?? false }),
      ),
    );
  });

  router.post('/tenants/:id/users/:userId/unlock', async (request, response) => {
    const body = unlockUserSchema.parse(request.body ?? {});
    const { id, userId } = request.params;
    const by = operatorOf(request, services);
    response.json(await act(request.params, 'unlock', () => services.actions.unlock(id, userId, { by, overrideOnPremises: body.overrideOnPremises ?? false })));
  });

  return router;
}
