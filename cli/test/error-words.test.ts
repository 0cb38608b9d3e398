import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LadingError } from '@lading/engine/errors';
import { describeForCli } from '../src/main.js';

describe('engine errors name options in their own terms; the CLI names the flag', () => {
  it('replaces the words for the option with its flag', () => {
    const err = new LadingError('USAGE', 'x:1 is in a registry, which the offline option does not reach: save it', {
      option: 'offline',
    });
    assert.equal(describeForCli(err), 'x:1 is in a registry, which --offline does not reach: save it');
    const force = new LadingError('USAGE', 'k.pub already exists (use the force option to overwrite)', {
      option: 'force',
    });
    assert.equal(describeForCli(force), 'k.pub already exists (use --force to overwrite)');
    const tls = new LadingError(
      'NETWORK',
      'cannot reach r:5000: TLS handshake failed (EPROTO); if r:5000 speaks plain HTTP, declare it with the insecureRegistries option',
      { option: 'insecureRegistries' },
    );
    assert.equal(
      describeForCli(tls),
      'cannot reach r:5000: TLS handshake failed (EPROTO); if r:5000 speaks plain HTTP, declare it with --insecure-registry',
    );
  });

  it('puts the flag before a message that starts with the value', () => {
    const err = new LadingError('USAGE', 'sbom: not a known predicate type (…) or a URI', { option: 'type' });
    assert.equal(describeForCli(err), '--type sbom: not a known predicate type (…) or a URI');
  });

  it('leaves other errors as they are', () => {
    assert.equal(describeForCli(new LadingError('IO', 'cannot read x')), 'cannot read x');
    assert.equal(describeForCli(new LadingError('IO', 'the foo option', { option: 'foo' })), 'the foo option');
    assert.equal(describeForCli(new Error('plain\nsecond line')), 'plain');
  });

  it('names the command inputs in an error that is not one of ours, once', () => {
    assert.equal(
      describeForCli(new TypeError('x.map is not a function'), ['oci:/images/app']),
      'internal error: x.map is not a function (while reading oci:/images/app)',
    );
    assert.equal(
      describeForCli(new RangeError('Invalid string length'), ['a.json', 'b.json']),
      describeForCli(new RangeError('Invalid string length')) + ' (while reading a.json, b.json)',
    );
    // Already named, or our own error: left as it is.
    assert.equal(describeForCli(new Error('cannot parse a.json'), ['a.json']), 'cannot parse a.json');
    assert.equal(describeForCli(new LadingError('IO', 'cannot read x'), ['y']), 'cannot read x');
  });
});
