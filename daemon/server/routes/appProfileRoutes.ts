import { Router } from 'express';
import { addAppProfileSchema, requestConsentSchema, rotateCredentialsSchema } from '../../../protocol/daemonApi';
import { operatorOf, type DaemonServices } from '../daemonServices';

/** App profiles: one multi-tenant app and credential for many tenants. HTTP only: the work is in the services. */
export function appProfileRoutes(services: DaemonServices): Router {
  const { appProfiles } = services;
  const router = Router();

  router.get('/app-profiles', async (_request, response) => {
    response.json({ appProfiles: await appProfiles.views(await appProfiles.list()) });
  });

  router.post('/app-profiles', async (request, response) => {
    const body = addAppProfileSchema.parse(request.body);
    response.status(201).json(await appProfiles.view(await appProfiles.add(body, operatorOf(request, services))));
  });

  router.get('/app-profiles/:profileId', async (request, response) => {
    response.json(await appProfiles.view(await appProfiles.get(request.params.profileId)));
  });

  router.delete('/app-profiles/:profileId', async (request, response) => {
    await appProfiles.remove(request.params.profileId, operatorOf(request, services));
    response.status(204).end();
  });

  router.post('/app-profiles/:profileId/credentials', async (request, response) => {
    const body = rotateCredentialsSchema.parse(request.body);
    response.json(await appProfiles.view(await appProfiles.rotate(request.params.profileId, body.credential, operatorOf(request, services))));
  });

  router.post('/app-profiles/:profileId/consents', async (request, response) => {
    const body = requestConsentSchema.parse(request.body);
    response.status(201).json(await services.consents.request(request.params.profileId, body, operatorOf(request, services)));
  });

  router.get('/app-profiles/:profileId/consents/:state', async (request, response) => {
    response.json(services.consents.get(request.params.profileId, request.params.state));
  });

  router.get('/app-profiles/:profileId/customers', async (request, response) => {
    response.json(await services.customers.list(request.params.profileId));
  });

  return router;
}
