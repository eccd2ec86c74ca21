import { credentialRequirements } from '../../protocol/credentialRequirements';

/** Every application permission the product asks for, as an app granted all of them holds them. */
export const productRoles: readonly string[] = [...credentialRequirements.requiredRoles, ...credentialRequirements.optionalRoles];
