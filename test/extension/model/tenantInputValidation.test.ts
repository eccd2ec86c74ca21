import assert from 'node:assert/strict';
import {
  certificateCredential,
  parseExpiryDate,
  secretCredential,
  validateAppId,
  validateExpiryDate,
  validateSecret,
  validateTenant,
} from '../../../extension/model/tenantInputValidation';
import { NOW } from '../support/viewFixtures';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('extension model: what the add-tenant and rotate boxes accept', () => {
  it('accepts a tenant id or a verified domain, as the daemon does', () => {
    assert.equal(validateTenant('72f988bf-86f1-41af-91ab-2d7cd011db47'), undefined);
    assert.equal(validateTenant('contoso.onmicrosoft.com'), undefined);
    assert.match(validateTenant('') ?? '', /needed/);
    assert.match(validateTenant('contoso') ?? '', /verified domain/);
  });

  it('accepts only a GUID as the application id', () => {
    assert.equal(validateAppId('0f3c2a8e-6a4b-4c1d-9e2f-3b5a7c9d1e2f'), undefined);
    assert.ok(validateAppId('my-app'));
  });

  it("refuses a secret's ID pasted instead of its value", () => {
    assert.equal(validateSecret('abc~DEF.123'), undefined);
    assert.match(validateSecret('11111111-2222-3333-4444-555555555555') ?? '', /secret's ID/);
    assert.ok(validateSecret(''));
  });

  it('takes an optional expiry date, not in the past, and sends it as an ISO time', () => {
    assert.equal(validateExpiryDate('', NOW), undefined);
    assert.equal(validateExpiryDate('2027-02-28', NOW), undefined);
    assert.ok(validateExpiryDate('2027-02-30', NOW), 'no such day');
    assert.ok(validateExpiryDate('2020-01-01', NOW), 'in the past');
    assert.equal(parseExpiryDate('2027-02-28'), Date.UTC(2027, 1, 28, 23, 59, 59));
    const result = secretCredential('s3cret', '2027-02-28');
    assert.deepEqual(result, { credential: { kind: 'secret', clientSecret: 's3cret', expiresAt: '2027-02-28T23:59:59.000Z' } });
  });

  it('keeps a bundled private key out of the certificate field', () => {
    const bundle = `${CERT}${KEY}`;
    const result = certificateCredential(bundle, bundle);
    assert.ok('credential' in result);
    assert.ok(result.credential.kind === 'certificate');
    assert.ok(!result.credential.certificatePem.includes('PRIVATE KEY'));
    assert.equal(result.credential.privateKeyPem, KEY);
  });

  it('says which file is wrong, and refuses an encrypted key', () => {
    const noCertificate = certificateCredential(KEY, KEY);
    assert.ok('error' in noCertificate && /certificate file/.test(noCertificate.error));
    const noKey = certificateCredential(CERT, CERT);
    assert.ok('error' in noKey && /key file/.test(noKey.error));
    const encrypted = certificateCredential(CERT, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n');
    assert.ok('error' in encrypted && /encrypted/.test(encrypted.error));
  });
});
