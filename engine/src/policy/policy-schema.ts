// biome-ignore-all lint/suspicious/noThenProperty: `then` here is the JSON Schema keyword, not a thenable.
// The policy file's JSON Schema. This object is the source; engine/schemas/policy.schema.json is written from it by
// `npm run schemas` (a test keeps the two equal), so the CLI bundle needs no file beside it.
export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://lading.dev/schemas/policy-v1.json',
  title: 'Lading policy file',
  description:
    'Gates for `lading scan --policy FILE`. Each rule fails or warns; exceptions suppress findings with a reason and an optional expiry.',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'rules'],
  properties: {
    version: {
      const: 1,
      description: 'Policy format version.',
    },
    rules: {
      type: 'array',
      items: {
        $ref: '#/definitions/rule',
      },
    },
    exceptions: {
      type: 'array',
      items: {
        $ref: '#/definitions/exception',
      },
    },
  },
  definitions: {
    action: {
      enum: ['fail', 'warn'],
    },
    severity: {
      enum: ['critical', 'high', 'medium', 'low', 'unknown', 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'],
    },
    rule: {
      type: 'object',
      required: ['id', 'type', 'action'],
      properties: {
        id: {
          type: 'string',
          minLength: 1,
          description: 'Name shown in verdicts.',
        },
        type: {
          enum: ['vulnerabilities', 'licenses', 'packages', 'image', 'misconfigurations', 'secrets'],
        },
        action: {
          $ref: '#/definitions/action',
        },
        description: {
          type: 'string',
        },
      },
      allOf: [
        {
          if: {
            properties: {
              type: {
                const: 'vulnerabilities',
              },
            },
          },
          then: {
            additionalProperties: false,
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              severity: {
                $ref: '#/definitions/severity',
                description: 'Findings at or above this severity.',
              },
              fixableOnly: {
                type: 'boolean',
                description: 'Only findings that have a fixed version.',
              },
              kev: {
                type: 'boolean',
                description: "Only findings in CISA's Known Exploited Vulnerabilities catalog.",
              },
              epssAtLeast: {
                type: 'number',
                minimum: 0,
                maximum: 1,
                description: 'Only findings whose EPSS probability is at least this.',
              },
              ids: {
                type: 'array',
                items: {
                  type: 'string',
                },
                description: 'Only these vulnerability ids (or aliases).',
              },
              max: {
                type: 'integer',
                minimum: 0,
                description: 'Allowed number of matching findings (default 0).',
              },
            },
          },
        },
        {
          if: {
            properties: {
              type: {
                const: 'licenses',
              },
            },
          },
          then: {
            additionalProperties: false,
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              allow: {
                type: 'array',
                items: {
                  type: 'string',
                },
                description: 'Only these licenses (SPDX ids) may appear; packages without a license are not checked.',
              },
              deny: {
                type: 'array',
                items: {
                  type: 'string',
                },
                description: 'These licenses (SPDX ids) must not appear.',
              },
              packageTypes: {
                type: 'array',
                items: {
                  type: 'string',
                },
                description: 'Only check these package types (purl types).',
              },
            },
          },
        },
        {
          if: {
            properties: {
              type: {
                const: 'packages',
              },
            },
          },
          then: {
            additionalProperties: false,
            required: ['deny'],
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              deny: {
                type: 'array',
                items: {
                  type: 'string',
                },
                description:
                  'Package names or purl patterns (`*` wildcard), e.g. `pkg:npm/event-stream@*` or `telnetd`.',
              },
            },
          },
        },
        {
          if: {
            properties: {
              type: {
                const: 'image',
              },
            },
          },
          then: {
            additionalProperties: false,
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              forbidRoot: {
                type: 'boolean',
                description: 'Fail when the image runs as root (USER empty, 0 or root).',
              },
              requireUser: {
                type: 'boolean',
                description: 'Fail when the image config sets no USER.',
              },
              forbidLatestTag: {
                type: 'boolean',
                description: 'Fail when the target is referenced by the `latest` tag (or no tag).',
              },
              forbidEol: {
                type: 'boolean',
                description:
                  'Fail when the OS release is past its end of life; warn when no end-of-life date is known for the release.',
              },
            },
          },
        },
        {
          if: {
            properties: {
              type: {
                const: 'misconfigurations',
              },
            },
          },
          then: {
            additionalProperties: false,
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              ids: {
                type: 'array',
                items: {
                  type: 'string',
                  pattern: '^IMG-[0-9]{3}$',
                },
                description: 'Only these image checks (IMG-001…; see docs/report.md, "misconfigurations").',
              },
              severity: {
                $ref: '#/definitions/severity',
                description: 'Only failed checks at or above this severity.',
              },
              max: {
                type: 'integer',
                minimum: 0,
                description: 'Allowed number of matching failed checks (default 0).',
              },
            },
          },
        },
        {
          if: {
            properties: {
              type: {
                const: 'secrets',
              },
            },
          },
          then: {
            additionalProperties: false,
            properties: {
              id: true,
              type: true,
              action: true,
              description: true,
              ids: {
                type: 'array',
                items: {
                  type: 'string',
                  minLength: 1,
                },
                description: 'Only these secret rules (github-pat, private-key…; see docs/report.md, "secrets").',
              },
              severity: {
                $ref: '#/definitions/severity',
                description: 'Only secrets at or above this severity.',
              },
              ignore: {
                type: 'array',
                items: {
                  type: 'string',
                  pattern: '^[0-9a-f]{32}$',
                },
                description: 'Fingerprints (secrets[].fingerprint) triaged as harmless: never counted.',
              },
              max: {
                type: 'integer',
                minimum: 0,
                description: 'Allowed number of matching secrets (default 0).',
              },
            },
          },
        },
      ],
    },
    exception: {
      type: 'object',
      additionalProperties: false,
      required: ['reason'],
      anyOf: [
        {
          required: ['vulnerability'],
        },
        {
          required: ['package'],
        },
        {
          required: ['purl'],
        },
      ],
      properties: {
        vulnerability: {
          type: 'string',
          description: 'Vulnerability id or alias (CVE-\u2026, GHSA-\u2026).',
        },
        package: {
          type: 'string',
          description: 'Package name.',
        },
        purl: {
          type: 'string',
          description: 'purl pattern with `*` wildcards.',
        },
        reason: {
          type: 'string',
          minLength: 1,
          description: 'Why the exception is acceptable (mandatory).',
        },
        expires: {
          type: 'string',
          pattern: '^\\d{4}-\\d{2}-\\d{2}',
          description: 'ISO date; from then on the exception stops applying and is reported.',
        },
      },
    },
  },
} as const;
