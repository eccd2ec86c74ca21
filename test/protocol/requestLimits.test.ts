import assert from 'node:assert/strict';
import { addTenantSchema, LIMITS, tenantIdSchema, userIdSchema } from '../../protocol/daemonApi';
import { validateDisplayName, validateSecret, validateTenant } from '../../extension/model/tenantInputValidation';

const label63 = 'a'.repeat(63);

describe('protocol: the limits on identifiers, shared by the daemon and the extension', () => {
  it('takes a domain of at most 253 characters in labels of at most 63 letters, digits and inner hyphens', () => {
    const longest = `${[label63, label63, label63].join('.')}.${'b'.repeat(61)}`;
    assert.equal(longest.length, 253);
    for (const domain of ['contoso.onmicrosoft.com', 'a.bc', `${label63}.com`, 'x-1.example.org', longest]) {
      assert.equal(validateTenant(domain), undefined, domain);
      assert.ok(addTenantSchema.shape.tenant.safeParse(domain).success, domain);
    }
    for (const domain of [`${longest}b`, `${'a'.repeat(64)}.com`, '-a.com', 'a-.com', 'a..com', 'a_b.com', 'contoso', 'constructor', '__proto__', 'a.com.']) {
      assert.ok(validateTenant(domain), `the extension refuses ${domain.slice(0, 30)}`);
      assert.ok(!addTenantSchema.shape.tenant.safeParse(domain).success, `the daemon refuses ${domain.slice(0, 30)}`);
    }
  });

  it('takes a user as a GUID or a user principal name of at most 113 characters', () => {
    const local = 'a'.repeat(64);
    const longest = `${local}@${'b'.repeat(44)}.com`;
    assert.equal(longest.length, LIMITS.userPrincipalNameMaxLength);
    for (const id of ['6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11', 'ada.lovelace@contoso.onmicrosoft.com', "o'neil_#1@contoso.com", longest]) {
      assert.ok(userIdSchema.safeParse(id).success, id);
    }
    for (const id of [`${longest}x`.replace('@', 'x@'), `${'a'.repeat(65)}@contoso.com`, 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', 'ada@', '@contoso.com', 'a b@contoso.com']) {
      assert.ok(!userIdSchema.safeParse(id).success, id.slice(0, 30));
    }
  });

  it('takes a tenant id only as a UUID', () => {
    assert.ok(tenantIdSchema.safeParse('6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11').success);
    for (const id of ['constructor', '__proto__', '6e0b3c8a1f594d439d1e2b7f1c3a9e11', `6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11 `]) assert.ok(!tenantIdSchema.safeParse(id).success, id);
  });

  it('bounds display names and secrets the same on both sides', () => {
    const longest = 'd'.repeat(LIMITS.displayNameMaxLength);
    assert.equal(validateDisplayName(longest), undefined);
    assert.ok(addTenantSchema.shape.displayName.safeParse(longest).success);
    assert.match(validateDisplayName(`${longest}d`) ?? '', /256/);
    assert.ok(!addTenantSchema.shape.displayName.safeParse(`${longest}d`).success);
    assert.equal(validateSecret('s'.repeat(LIMITS.clientSecretMaxLength)), undefined);
    assert.ok(validateSecret('s'.repeat(LIMITS.clientSecretMaxLength + 1)));
  });
});
