import { Router } from 'express';
import type { SessionView } from '../../../protocol/daemonApi';
import type { ApiAuthentication } from '../apiAuthentication';
import { callerOf } from '../apiCaller';

/** `GET /v1/session`: the mode and who is signed in, for the extension to show. */
export function sessionRoutes(authentication: Pick<ApiAuthentication, 'mode'>): Router {
  const router = Router();
  router.get('/session', (request, response) => {
    const caller = callerOf(request);
    const session: SessionView = {
      mode: authentication.mode,
      engineer: { name: caller.name, role: caller.role, tenants: caller.tenants === null ? null : [...caller.tenants] },
    };
    response.json(session);
  });
  return router;
}
