/**
 * The sign-in endpoints of a tenant's authority (`{authority host}/{tenant}`) as msal-node's
 * `authorityMetadata` option takes them (JSON), laid out as the Microsoft identity platform lays them out
 * in every cloud: `{authority}/oauth2/v2.0/token` and its siblings. msal-node builds exactly these for
 * Microsoft's own hosts and asks nothing; for any other authority host (a national cloud given with
 * `--authority-host`, the simulator) it would first fetch `{authority}/v2.0/.well-known/openid-configuration`,
 * one request more before the first token of each daemon's life. Given them, msal's first request is the
 * token request.
 *
 * A tenant Microsoft does not know is then refused by the token endpoint itself (AADSTS90002), as it is
 * refused there for Microsoft's own hosts.
 */
export function authorityMetadata(authority: string): string {
  return JSON.stringify({
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    issuer: `${authority}/v2.0`,
  });
}
