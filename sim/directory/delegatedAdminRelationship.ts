/**
 * A partner's GDAP relationship with a customer tenant. Graph lists the customer among the partner's
 * `delegatedAdminCustomers` only while a relationship is active.
 */
export interface DelegatedAdminRelationship {
  tenantId: string;
  displayName: string;
  active: boolean;
  etag: string;
}
