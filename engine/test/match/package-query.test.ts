import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { moduleStreamMatches } from '../../src/match/module-stream.js';
import { queryFor } from '../../src/match/package-query.js';
import type { OsvAffected } from '../../src/model/osv.js';
import { DEBIAN_12, pkg } from './inventory-helpers.js';

describe('queryFor', () => {
  it('uses advisory names: Debian source, Maven group:artifact, npm scope, Go module path and bare versions', () => {
    assert.deepEqual(
      queryFor(
        pkg('deb', 'libssl3', '3.0.15-1~deb12u1+b1', { source: { name: 'openssl', version: '3.0.15-1~deb12u1' } }),
        DEBIAN_12,
      ),
      {
        ecosystem: 'Debian:12',
        names: ['openssl'],
        version: '3.0.15-1~deb12u1',
      },
    );
    assert.deepEqual(
      queryFor(pkg('maven', 'jackson-databind', '2.9.8', { namespace: 'com.fasterxml.jackson.core' }), undefined),
      {
        ecosystem: 'Maven',
        names: ['com.fasterxml.jackson.core:jackson-databind'],
        version: '2.9.8',
      },
    );
    assert.deepEqual(queryFor(pkg('npm', 'core', '7.0.0', { namespace: '@babel' }), undefined), {
      ecosystem: 'npm',
      names: ['@babel/core'],
      version: '7.0.0',
    });
    assert.deepEqual(queryFor(pkg('golang', 'net', 'v0.1.0', { namespace: 'golang.org/x' }), undefined), {
      ecosystem: 'Go',
      names: ['golang.org/x/net'],
      version: '0.1.0',
    });
    assert.deepEqual(queryFor(pkg('golang', 'stdlib', 'go1.21.3'), undefined), {
      ecosystem: 'Go',
      names: ['stdlib'],
      version: '1.21.3',
    });
    assert.equal(typeof queryFor(pkg('deb', 'bash', '5.2-1'), undefined), 'string');
  });

  it('tries both binary and source names for rpm', () => {
    const q = queryFor(pkg('rpm', 'openssl-libs', '1:3.0.7-27.el9', { source: { name: 'openssl' } }), {
      family: 'rocky',
      version: '9.3',
      ecosystem: 'Rocky Linux:9',
    });
    assert.deepEqual(q, { ecosystem: 'Rocky Linux:9', names: ['openssl-libs', 'openssl'], version: '1:3.0.7-27.el9' });
  });
});

describe('moduleStreamMatches', () => {
  const modularFix: OsvAffected = {
    package: { ecosystem: 'AlmaLinux:8', name: 'nodejs' },
    ranges: [
      { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:18.19.1-1.module_el8.9.0+3775+d8460d29' }] },
    ],
  };
  const plainFix: OsvAffected = {
    package: { ecosystem: 'AlmaLinux:8', name: 'nodejs' },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:10.24.0-1.el8' }] }],
  };
  const modular = pkg('rpm', 'nodejs', '1:18.14.2-2.module_el8.8.0+3531+e4a1b3b2', {
    metadata: { 'rpm.modularitylabel': 'nodejs:18:8080020230311154426:a75119d5' },
  });
  const plain = pkg('rpm', 'nodejs', '1:10.21.0-3.el8');

  it('applies modular fixes to modular packages only, and plain fixes to plain ones', () => {
    assert.equal(moduleStreamMatches(modular, modularFix), true);
    assert.equal(moduleStreamMatches(plain, modularFix), false);
    assert.equal(moduleStreamMatches(modular, plainFix), false);
    assert.equal(moduleStreamMatches(plain, plainFix), true);
  });

  it('requires the named module stream when the advisory names one', () => {
    const named: OsvAffected = { ...modularFix, ecosystem_specific: { module: 'nodejs:20' } };
    assert.equal(moduleStreamMatches(modular, named), false);
    assert.equal(moduleStreamMatches(modular, { ...modularFix, ecosystem_specific: { module: 'nodejs:18' } }), true);
  });
});
